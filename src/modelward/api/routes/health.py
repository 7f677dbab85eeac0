"""Routes for integrity: check a model, repair it, see and purge the quarantine."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter

from modelward.api.deps import RuntimeDep, TokenDep
from modelward.api.schemas import (
    IntegrityPublic,
    PurgePublic,
    QuarantineEntryPublic,
    RepairPublic,
)
from modelward.health import VerifyLevel

router = APIRouter(tags=["health"])


@router.post("/models/{model_id}/verify", response_model=IntegrityPublic, dependencies=[TokenDep])
async def verify(
    model_id: str, runtime: RuntimeDep, level: VerifyLevel = VerifyLevel.STRUCTURAL
) -> IntegrityPublic:
    """Check the model's files at ``level`` (quick, structural or full)."""
    result = await runtime.health.check_model_integrity(model_id, level)
    return IntegrityPublic.model_validate(result)


@router.post("/models/{model_id}/repair", response_model=RepairPublic, dependencies=[TokenDep])
async def repair(model_id: str, runtime: RuntimeDep) -> RepairPublic:
    """Fully check the model, quarantine damaged files and fetch only their damaged blocks."""
    result = await runtime.health.verify_and_repair_model(model_id)
    return RepairPublic.model_validate(result)


@router.get("/quarantine", response_model=list[QuarantineEntryPublic])
async def quarantine_list(runtime: RuntimeDep) -> list[QuarantineEntryPublic]:
    """Files set aside as damaged or unsafe, oldest first."""
    entries = await asyncio.to_thread(runtime.quarantine.entries)
    return [QuarantineEntryPublic.model_validate(e) for e in entries]


@router.delete("/quarantine", response_model=PurgePublic, dependencies=[TokenDep])
async def quarantine_purge(runtime: RuntimeDep) -> PurgePublic:
    """Delete every quarantined file for good."""
    count = len(await asyncio.to_thread(runtime.quarantine.entries))
    freed = await asyncio.to_thread(runtime.quarantine.purge)
    return PurgePublic(purged=count, freed_bytes=freed)
