"""modelward keeps large AI model weights available on a machine.

The public API: the seed's components and data models, plus the settings and error tree
they are built with.
"""

__version__ = "0.1.0"

from modelward.catalog import Catalog, ModelSpec, load_catalog
from modelward.errors import ModelwardError
from modelward.events import Event, EventBus
from modelward.health import (
    IntegrityIssue,
    IntegrityResult,
    IssueKind,
    ModelHealthMonitor,
    VerifyLevel,
)
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.status import (
    DetailedModelStatus,
    ModelAvailabilityStatus,
    model_status,
)
from modelward.store import ModelManager
from modelward.transfer import (
    DownloadProgress,
    DownloadResult,
    DownloadStatus,
    EnhancedModelDownloader,
    RetryPolicy,
)

__all__ = [
    "Catalog",
    "DetailedModelStatus",
    "DownloadProgress",
    "DownloadResult",
    "DownloadStatus",
    "EnhancedModelDownloader",
    "Event",
    "EventBus",
    "IntegrityIssue",
    "IntegrityResult",
    "IssueKind",
    "ModelAvailabilityStatus",
    "ModelHealthMonitor",
    "ModelManager",
    "ModelSpec",
    "ModelwardError",
    "RetryPolicy",
    "Runtime",
    "Settings",
    "VerifyLevel",
    "__version__",
    "load_catalog",
    "model_status",
]
