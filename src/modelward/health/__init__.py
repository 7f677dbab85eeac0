"""Health: what is wrong with the files of a model on disk, found as cheaply as possible."""

from modelward.health.checker import IntegrityResult, VerifyLevel, check_integrity
from modelward.health.issues import IntegrityIssue, IssueKind
from modelward.health.monitor import ModelHealthMonitor
from modelward.health.structural import check_file, check_structure

__all__ = [
    "IntegrityIssue",
    "IntegrityResult",
    "IssueKind",
    "ModelHealthMonitor",
    "VerifyLevel",
    "check_file",
    "check_integrity",
    "check_structure",
]
