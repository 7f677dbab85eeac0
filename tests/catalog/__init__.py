"""Tests of modelward.catalog."""
