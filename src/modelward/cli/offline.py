"""HF_HUB_OFFLINE across processes: a command and the service it uses must agree.

The service reads the environment once, when it starts; a command run later with another
``HF_HUB_OFFLINE`` would otherwise be served by a service that does contact the hub (or
one that cannot), so the command refuses and says how to bring them in line.
"""

from __future__ import annotations

from modelward.cli.client import ServiceClient
from modelward.errors import ConfigError
from modelward.settings import Settings


def check_offline_agrees(client: ServiceClient, settings: Settings) -> None:
    """Raise ConfigError (and close ``client``) when the service's offline mode is not the
    command's."""
    if client.healthz().offline == settings.offline:
        return
    client.close()
    if settings.offline:
        raise ConfigError(
            f"HF_HUB_OFFLINE=1 is set here, but the service at {client.url} for "
            f"{settings.home} runs online and would contact the hub",
            hint="Stop it with 'modelward service stop' (the next command starts one "
            "offline), or unset HF_HUB_OFFLINE.",
        )
    raise ConfigError(
        f"the service at {client.url} for {settings.home} runs offline (it was started "
        "with HF_HUB_OFFLINE=1), so it cannot fetch anything",
        hint="Stop it with 'modelward service stop' and run the command again; the next "
        "command starts a service online.",
    )
