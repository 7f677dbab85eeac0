"""The revisions, oldest first (``v0001_baseline`` is the baseline)."""
