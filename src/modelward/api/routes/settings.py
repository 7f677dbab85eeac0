"""Routes for the settings a person may change while the service runs."""

from __future__ import annotations

from fastapi import APIRouter

from modelward import __version__
from modelward.api.deps import RuntimeDep, TokenDep
from modelward.api.schemas import SettingsPatch, SettingsPublic, SettingsReadOnly
from modelward.overrides import EDITABLE
from modelward.settings import Settings

router = APIRouter(tags=["settings"])


@router.get("/settings", response_model=SettingsPublic)
async def get_settings(runtime: RuntimeDep) -> SettingsPublic:
    """Automation, schedules, thresholds and policies now, and where things are."""
    return _public(runtime.settings)


@router.patch("/settings", response_model=SettingsPublic, dependencies=[TokenDep])
async def change_settings(body: SettingsPatch, runtime: RuntimeDep) -> SettingsPublic:
    """Change any of them; they apply at once and are kept for later starts."""
    changes = body.model_dump(exclude_unset=True)
    return _public(await runtime.change_settings(changes))


def _public(settings: Settings) -> SettingsPublic:
    values = {name: getattr(settings, name) for name in EDITABLE}
    return SettingsPublic(
        **values,
        read_only=SettingsReadOnly(
            cache_dir=str(settings.cache_dir),
            home=str(settings.home),
            endpoint=settings.endpoint,
            version=__version__,
            catalog_files=[str(path) for path in settings.catalog_files],
        ),
    )
