"""Health: what is wrong with the files of a model on disk, found as cheaply as possible."""

from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.health.structural import check_file, check_structure

__all__ = ["IntegrityIssue", "IssueKind", "check_file", "check_structure"]
