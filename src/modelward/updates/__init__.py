"""Model updates: detect that upstream moved, apply beside the old version, roll back."""

from modelward.updates.record import UpdatePolicy, UpdateRecord, UpdateState, load_record
from modelward.updates.updater import (
    ModelUpdater,
    UpdateCheck,
    UpdatePolicySettings,
    UpdateResult,
)

__all__ = [
    "ModelUpdater",
    "UpdateCheck",
    "UpdatePolicy",
    "UpdatePolicySettings",
    "UpdateRecord",
    "UpdateResult",
    "UpdateState",
    "load_record",
]
