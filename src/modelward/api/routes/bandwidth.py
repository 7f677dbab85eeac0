"""Routes for bandwidth caps: the global one and each model's own."""

from __future__ import annotations

from fastapi import APIRouter

from modelward.api.deps import RuntimeDep
from modelward.api.guard import ADMIN, GuardedRoute
from modelward.api.schemas import BandwidthPublic, BandwidthUpdate, ModelBandwidthPublic

router = APIRouter(tags=["bandwidth"], route_class=GuardedRoute)


@router.get("/bandwidth", response_model=BandwidthPublic)
def get_bandwidth(runtime: RuntimeDep) -> BandwidthPublic:
    """The cap on the total download rate, in bytes per second (0 = unlimited)."""
    return BandwidthPublic(limit_bytes_per_s=runtime.downloader.rate_limit_bytes_per_s)


@router.put("/bandwidth", response_model=BandwidthPublic, openapi_extra=ADMIN)
async def set_bandwidth(body: BandwidthUpdate, runtime: RuntimeDep) -> BandwidthPublic:
    """Cap the total rate of all downloads; running transfers follow within a second. The
    cap is kept in MODELWARD_HOME/settings.json for later starts, as `modelward limit`
    keeps it with no service running."""
    await runtime.set_bandwidth_limit(body.limit_bytes_per_s)
    return BandwidthPublic(limit_bytes_per_s=runtime.downloader.rate_limit_bytes_per_s)


@router.put(
    "/models/{model_id}/bandwidth", response_model=ModelBandwidthPublic, openapi_extra=ADMIN
)
async def set_model_bandwidth(
    model_id: str, body: BandwidthUpdate, runtime: RuntimeDep
) -> ModelBandwidthPublic:
    """Cap one model's rate (0 removes its own cap; the global cap still applies)."""
    await runtime.downloader.set_rate_limit(body.limit_bytes_per_s, model_id)
    return ModelBandwidthPublic(model_id=model_id, limit_bytes_per_s=body.limit_bytes_per_s)
