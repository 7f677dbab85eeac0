"""Health: what is wrong with the files of a model on disk, found as cheaply as possible."""

from modelward.health.checker import IntegrityResult, VerifyLevel, check_integrity
from modelward.health.issues import IntegrityIssue, IssueKind, IssueList
from modelward.health.monitor import (
    CorruptedFile,
    CorruptionReport,
    ModelHealthMonitor,
    RepairResult,
)
from modelward.health.pickles import PickleScreen, dangerous_imports
from modelward.health.quarantine import Quarantine, QuarantineEntry
from modelward.health.repair import RepairPlan
from modelward.health.structural import check_file, check_structure

__all__ = [
    "CorruptedFile",
    "CorruptionReport",
    "IntegrityIssue",
    "IntegrityResult",
    "IssueKind",
    "IssueList",
    "ModelHealthMonitor",
    "PickleScreen",
    "Quarantine",
    "QuarantineEntry",
    "RepairPlan",
    "RepairResult",
    "VerifyLevel",
    "check_file",
    "check_integrity",
    "check_structure",
    "dangerous_imports",
]
