"""Before the previous version of a model is removed, the served one is hashed whole.

The previous version is the only backup there is; a stat that looks right says nothing of
bit rot or a write that kept the file's size and time. So every file of the served
version is hashed against its published checksum (the health checker's full level, off
the event loop, recording what it finds), and the backup is removed only when all match.
"""

from __future__ import annotations

import asyncio

from modelward.errors import PruneRefusedError
from modelward.health.checker import VerifyLevel, check_integrity
from modelward.sources import Target
from modelward.store.layout import RepoLayout


async def verify_before_prune(
    model_id: str, layout: RepoLayout, target: Target | None, previous: str
) -> None:
    """Hash every file of ``target`` (the served version); raise ``PruneRefusedError``
    naming what is wrong unless each is present and matches its checksum."""
    if target is None:
        raise PruneRefusedError(
            f"the files of {model_id}'s served version are not known here, so it cannot "
            f"be checked; its previous version {previous[:12]} is kept"
        )
    result = await asyncio.to_thread(check_integrity, model_id, layout, target, VerifyLevel.FULL)
    ours = {f.path for f in target.files}
    issues = [i for i in result.issues if i.path in ours]
    if issues:
        named = ", ".join(f"{i.path} ({i.kind.value})" for i in issues[:3])
        more = f" and {len(issues) - 3} more" if len(issues) > 3 else ""
        raise PruneRefusedError(
            f"{model_id}'s served version {target.commit[:12]} failed verification: "
            f"{named}{more}; its previous version {previous[:12]} is kept, nothing was "
            "deleted"
        )
