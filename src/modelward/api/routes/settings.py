"""Routes for the settings a person may change while the service runs."""

from __future__ import annotations

from fastapi import APIRouter

from modelward import __version__
from modelward.api.deps import RuntimeDep
from modelward.api.guard import ADMIN, GuardedRoute
from modelward.api.schemas import (
    FeaturesPublic,
    SettingsPatch,
    SettingsPublic,
    SettingsReadOnly,
)
from modelward.overrides import EDITABLE
from modelward.settings import FEATURES, Settings

router = APIRouter(tags=["settings"], route_class=GuardedRoute)


@router.get("/settings", response_model=SettingsPublic)
async def get_settings(runtime: RuntimeDep) -> SettingsPublic:
    """Automation, schedules, thresholds and policies now, and where things are."""
    return _public(runtime.settings)


@router.patch("/settings", response_model=SettingsPublic, openapi_extra=ADMIN)
async def change_settings(body: SettingsPatch, runtime: RuntimeDep) -> SettingsPublic:
    """Change any of them; they apply at once and are kept for later starts."""
    changes = body.model_dump(exclude_unset=True, exclude={"features"})
    if body.features is not None:
        switched = body.features.model_dump(exclude_none=True)
        changes |= {f"feature_{name}": on for name, on in switched.items()}
    return _public(await runtime.change_settings(changes))


def _public(settings: Settings) -> SettingsPublic:
    values = {name: getattr(settings, name) for name in EDITABLE}
    return SettingsPublic(
        **values,
        features=FeaturesPublic(**{f: getattr(settings, f"feature_{f}") for f in FEATURES}),
        read_only=SettingsReadOnly(
            cache_dir=str(settings.cache_dir),
            home=str(settings.home),
            endpoint=settings.endpoint,
            version=__version__,
            catalog_files=[str(path) for path in settings.catalog_files],
        ),
    )
