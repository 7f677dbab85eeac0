"""Health: what is wrong with the files of a model on disk, found as cheaply as possible;
how its generations perform; and what to do about both."""

from modelward.health.checker import IntegrityResult, VerifyLevel, check_integrity
from modelward.health.issues import IntegrityIssue, IssueKind, IssueList
from modelward.health.monitor import ModelHealthMonitor
from modelward.health.performance import (
    GenerationMetrics,
    PerformanceHealth,
    PerformanceStatus,
    PerformanceThresholds,
    assess_performance,
)
from modelward.health.pickles import PickleScreen, dangerous_imports
from modelward.health.policy import HealthPolicy
from modelward.health.quarantine import Quarantine, QuarantineEntry
from modelward.health.repair import RepairPlan
from modelward.health.report import (
    HealthCondition,
    HealthRecommendation,
    ModelHealth,
    Severity,
    SystemHealthReport,
)
from modelward.health.results import CorruptedFile, CorruptionReport, RepairResult
from modelward.health.schedule import UsagePattern, next_check_at
from modelward.health.scrub import ScrubPass, scrub_model
from modelward.health.structural import check_file, check_structure
from modelward.transfer.repairs import register_repairer_factory

# The seed asks the downloader for repairs: one without a monitor gets one on first use.
register_repairer_factory(lambda downloader: ModelHealthMonitor(downloader.manager, downloader))

__all__ = [
    "CorruptedFile",
    "CorruptionReport",
    "GenerationMetrics",
    "HealthCondition",
    "HealthPolicy",
    "HealthRecommendation",
    "IntegrityIssue",
    "IntegrityResult",
    "IssueKind",
    "IssueList",
    "ModelHealth",
    "ModelHealthMonitor",
    "PerformanceHealth",
    "PerformanceStatus",
    "PerformanceThresholds",
    "PickleScreen",
    "Quarantine",
    "QuarantineEntry",
    "RepairPlan",
    "RepairResult",
    "ScrubPass",
    "Severity",
    "SystemHealthReport",
    "UsagePattern",
    "VerifyLevel",
    "assess_performance",
    "check_file",
    "check_integrity",
    "check_structure",
    "dangerous_imports",
    "next_check_at",
    "scrub_model",
]
