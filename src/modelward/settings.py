"""modelward's settings: one class, read from the environment once at the entry point.

Library code never reads the environment; the CLI, the service and tests build a
``Settings`` and pass it down.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modelward.errors import ConfigError
from modelward.units import parse_rate, parse_size

DEFAULT_ENDPOINT = "https://huggingface.co"

FEATURES = (
    "retries",
    "segmented_transfer",
    "scheduled_health_checks",
    "automatic_repair",
    "alternative_suggestions",
    "request_queueing",
    "mock_fallback",
    "usage_analytics",
    "update_checks",
    "cleanup_suggestions",
)
"""Each enhancement that can be switched off (``feature_<name>`` settings); off, modelward
behaves as the plain base system would for that part."""


class Settings(BaseModel):
    """Everything modelward can be configured with; immutable once built."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cache_dir: Path = Field(description="Root of the Hugging Face cache (the store).")
    home: Path = Field(description="modelward's own data: records, partial state, database.")
    catalog_files: tuple[Path, ...] = Field(
        default=(), description="Catalog files that add to or override the built-in one."
    )
    endpoint: str = Field(default=DEFAULT_ENDPOINT, description="Hub endpoint (HF_ENDPOINT).")
    hf_token: str | None = Field(default=None, description="Token for gated or private repos.")
    offline: bool = Field(
        default=False,
        description="Never contact a source (HF_HUB_OFFLINE=1): work from what is on disk.",
    )
    api_token: str | None = Field(
        default=None, description="Bearer token the service requires for mutating routes."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite in MODELWARD_HOME."
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=0, le=65535)
    max_retries: int = Field(default=3, ge=0, le=100)
    connections: int = Field(default=32, ge=1, le=256, description="Global connection limit.")
    connections_per_file: int = Field(
        default=8, ge=1, le=64, description="Connections one file may use at once."
    )
    segment_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=64 * 1024,
        description="Bytes per segment.",
    )
    bandwidth_limit_bytes_per_s: int = Field(
        default=0, ge=0, description="Cap on the total download rate (0 = none)."
    )
    quarantine_cap_bytes: int = Field(
        default=20 * 1024**3, ge=0, description="Most bytes quarantine keeps (oldest go first)."
    )
    health_check_interval_s: float = Field(
        default=24 * 3600.0,
        ge=0,
        description="Seconds between scheduled health checks (0 = only the check at start).",
    )
    health_check_level: Literal["quick", "structural", "scrub", "full"] = Field(
        default="scrub", description="Level of the scheduled health checks."
    )
    health_check_at_start: bool = Field(
        default=True, description="Quick and structural check of every model when serving."
    )
    scrub_budget_bytes: int = Field(
        default=16 * 1024**3,
        ge=0,
        description="Bytes one scrub run reads per model (a 130 GB model is covered in 8 runs).",
    )
    automation: Literal["off", "ask", "auto"] = Field(
        default="ask",
        description="What health checks do about missing or damaged models: nothing (off), "
        "recommend the download or repair (ask), or start it (auto).",
    )
    performance_window: int = Field(
        default=10, ge=1, description="Recent generations judged against the baseline."
    )
    performance_min_baseline: int = Field(
        default=5, ge=1, description="Earlier generations needed before judging."
    )
    performance_slowdown: float = Field(
        default=0.5, gt=0, description="Degraded beyond this slowdown (0.5 = 1.5x the usual)."
    )
    performance_failure_rate: float = Field(
        default=0.3, gt=0, le=1, description="Degraded beyond this rise in failure rate."
    )
    vram_gb: float | None = Field(
        default=None,
        gt=0,
        description=(
            "GPU memory (GB) a job has when it does not say; unset: the free memory the "
            "NVIDIA driver reports."
        ),
    )
    update_policy: Literal["notify", "ask", "auto"] = Field(
        default="notify",
        description="When upstream moves: notify, ask (propose the command) or auto (apply).",
    )
    update_check_interval_s: float = Field(
        default=6 * 3600.0, ge=0, description="How often the service asks upstream (0 = never)."
    )
    keep_previous_successes: int = Field(
        default=3,
        ge=0,
        description="Successful jobs on a new version before the previous one is removed.",
    )
    rollback_after_failures: int = Field(
        default=2,
        ge=1,
        description="Failed first jobs on a new version that roll it back.",
    )
    low_space_bytes: int = Field(
        default=50 * 10**9, ge=0, description="Warn when the store's disk has less free."
    )
    unused_after_days: float = Field(
        default=30.0, gt=0, description="Models unused this long are offered for removal."
    )
    on_demand_idle_s: float = Field(
        default=600.0,
        ge=0,
        description="A service a CLI command started stops after this long with no work.",
    )
    stall_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="A connection that delivers no byte for this long is dropped and retried.",
    )
    audit_retention_days: float = Field(
        default=180.0,
        gt=0,
        description="Audit records, download outcomes and fallback decisions older than this "
        "are removed.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body the service reads; bigger ones get 413 unread.",
    )
    allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Host names the service answers for besides loopback names and the "
        "bound address (MODELWARD_ALLOWED_HOSTS, comma-separated); '*' allows any.",
    )
    read_token_required: bool | None = Field(
        default=None,
        description="Reads need a read token (MODELWARD_READ_TOKEN_REQUIRED); unset: only "
        "when the service is bound off loopback. Set it behind a reverse proxy on loopback.",
    )
    feature_retries: bool = Field(default=True, description="Retry failed transfers.")
    feature_segmented_transfer: bool = Field(
        default=True, description="Split large files over several connections."
    )
    feature_scheduled_health_checks: bool = Field(
        default=True, description="Run health checks on a schedule."
    )
    feature_automatic_repair: bool = Field(
        default=True, description="Let automation repair or fetch what checks find."
    )
    feature_alternative_suggestions: bool = Field(
        default=True, description="Offer another model when the requested one is not ready."
    )
    feature_request_queueing: bool = Field(
        default=True, description="Queue generation requests until their model is ready."
    )
    feature_mock_fallback: bool = Field(
        default=True, description="Serve a labelled mock output when no model can run."
    )
    feature_usage_analytics: bool = Field(
        default=True, description="Record model usage for statistics and recommendations."
    )
    feature_update_checks: bool = Field(default=True, description="Ask upstream for updates.")
    feature_cleanup_suggestions: bool = Field(
        default=True, description="Suggest unused models to remove."
    )
    mirrors: tuple[str, ...] = Field(
        default=(),
        description="Team mirrors tried before the Hub, per file (MODELWARD_MIRRORS: "
        "s3://BUCKET/PREFIX, comma-separated).",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="The S3-compatible store the mirrors are in (AWS_ENDPOINT_URL_S3 or "
        "AWS_ENDPOINT_URL; default: AWS S3).",
    )
    mirror_publish: bool = Field(
        default=False,
        description="Push what this node pulled from the Hub to the first mirror "
        "(MODELWARD_MIRROR_PUBLISH=1).",
    )
    node_name: str = Field(
        default_factory=socket.gethostname,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="This node's name in the fleet (MODELWARD_NODE_NAME; default: host name).",
    )
    node_address: str | None = Field(
        default=None,
        description="The URL other nodes and people reach this service at "
        "(MODELWARD_NODE_ADDRESS; default: http://HOST:PORT).",
    )
    node_heartbeat_s: float = Field(
        default=10.0,
        gt=0,
        description="How often a node records itself in the shared database; three missed "
        "beats and it shows offline.",
    )
    lease_ttl_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a node's claim to fetch a blob for the team lasts unless "
        "renewed (MODELWARD_LEASE_TTL); a dead leader is replaced after at most this.",
    )
    retry_base_delay_s: float = Field(default=1.0, ge=0)
    retry_max_delay_s: float = Field(default=60.0, ge=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)

    @field_validator("endpoint")
    @classmethod
    def _check_endpoint(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"endpoint {value!r} is not an http:// or https:// URL "
                "(set HF_ENDPOINT or --endpoint to e.g. https://huggingface.co)"
            )
        return value.rstrip("/")

    @field_validator("mirrors")
    @classmethod
    def _check_mirrors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for mirror in value:
            parts = urlsplit(mirror)
            if parts.scheme != "s3" or not parts.netloc:
                raise ValueError(
                    f"mirror {mirror!r} is not an s3://BUCKET/PREFIX address "
                    "(set MODELWARD_MIRRORS to e.g. s3://team-models/hf)"
                )
        return tuple(m.rstrip("/") for m in value)

    @property
    def features_off(self) -> list[str]:
        """The enhancements switched off, by name (``retries``, ``mock_fallback``...)."""
        return [name for name in FEATURES if not getattr(self, f"feature_{name}")]

    @property
    def partials_dir(self) -> Path:
        """Where resume records of unfinished downloads live."""
        return self.home / "partials"

    @property
    def records_dir(self) -> Path:
        """Where verification records and resolved manifests live."""
        return self.home / "records"

    @property
    def effective_database_url(self) -> str:
        """The database to use: the setting, or SQLite in ``home``."""
        return self.database_url or f"sqlite:///{self.home / 'modelward.db'}"

    @property
    def api_token_file(self) -> Path:
        """Where a generated service token is kept between runs."""
        return self.home / "api-token"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from an environment mapping (``os.environ`` by default)."""
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "cache_dir": _hf_cache_dir(env),
            "home": _modelward_home(env),
            "catalog_files": _catalog_files(env),
            "endpoint": env.get("HF_ENDPOINT", DEFAULT_ENDPOINT).rstrip("/"),
            "hf_token": _hf_token(env),
            "offline": _is_true(env.get("HF_HUB_OFFLINE", "")),
            "api_token": env.get("MODELWARD_TOKEN") or None,
            "database_url": env.get("MODELWARD_DATABASE_URL") or None,
            "s3_endpoint_url": env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL"),
        }
        for key, env_name in (
            ("host", "MODELWARD_HOST"),
            ("port", "MODELWARD_PORT"),
            ("max_retries", "MODELWARD_MAX_RETRIES"),
            ("connections", "MODELWARD_CONNECTIONS"),
            ("connections_per_file", "MODELWARD_CONNECTIONS_PER_FILE"),
            ("bandwidth_limit_bytes_per_s", "MODELWARD_BANDWIDTH_LIMIT"),
            ("segment_bytes", "MODELWARD_SEGMENT_BYTES"),
            ("health_check_interval_s", "MODELWARD_HEALTH_INTERVAL"),
            ("health_check_level", "MODELWARD_HEALTH_LEVEL"),
            ("health_check_at_start", "MODELWARD_HEALTH_AT_START"),
            ("scrub_budget_bytes", "MODELWARD_SCRUB_BUDGET"),
            ("automation", "MODELWARD_AUTOMATION"),
            ("vram_gb", "MODELWARD_VRAM_GB"),
            ("update_policy", "MODELWARD_UPDATE_POLICY"),
            ("update_check_interval_s", "MODELWARD_UPDATE_INTERVAL"),
            ("keep_previous_successes", "MODELWARD_KEEP_PREVIOUS_SUCCESSES"),
            ("low_space_bytes", "MODELWARD_LOW_SPACE"),
            ("unused_after_days", "MODELWARD_UNUSED_AFTER_DAYS"),
            ("on_demand_idle_s", "MODELWARD_ON_DEMAND_IDLE"),
            ("stall_timeout_s", "MODELWARD_STALL_TIMEOUT"),
            ("audit_retention_days", "MODELWARD_AUDIT_RETENTION_DAYS"),
            ("node_name", "MODELWARD_NODE_NAME"),
            ("node_address", "MODELWARD_NODE_ADDRESS"),
            ("node_heartbeat_s", "MODELWARD_NODE_HEARTBEAT"),
            ("lease_ttl_s", "MODELWARD_LEASE_TTL"),
        ):
            if env.get(env_name):
                values[key] = env[env_name]
        values.update(_with_units(env))
        values.update(_features(env))
        if env.get("MODELWARD_ALLOWED_HOSTS"):
            values["allowed_hosts"] = _names(env["MODELWARD_ALLOWED_HOSTS"])
        if env.get("MODELWARD_READ_TOKEN_REQUIRED"):
            values["read_token_required"] = _is_true(env["MODELWARD_READ_TOKEN_REQUIRED"])
        if env.get("MODELWARD_MIRRORS"):
            values["mirrors"] = _names(env["MODELWARD_MIRRORS"])
        if env.get("MODELWARD_MIRROR_PUBLISH"):
            values["mirror_publish"] = _is_true(env["MODELWARD_MIRROR_PUBLISH"])
        if env.get("MODELWARD_MAX_BODY"):
            values["max_body_bytes"] = _parsed(parse_size, "MODELWARD_MAX_BODY", env)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return _validated(values)

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> Settings:
        """Settings from plain values, each error named by its setting (ConfigError)."""
        return _validated(values)

    def with_changes(self, **changes: object) -> Settings:
        """A copy with ``changes`` applied and validated (``None`` values are ignored)."""
        values = self.model_dump()
        values.update({k: v for k, v in changes.items() if v is not None})
        return _validated(values)

    def ensure_api_token(self) -> tuple[Settings, bool]:
        """Return settings with a service token, generating and saving one if none is set."""
        if self.api_token:
            return self, False
        path = self.api_token_file
        if path.is_file():
            token = path.read_text(encoding="utf-8").strip()
            if token:
                return self.with_changes(api_token=token), False
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        return self.with_changes(api_token=token), True


def _validated(values: Mapping[str, object]) -> Settings:
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"setting '{field}': {message}") from exc


# Written by people, so with a unit as everywhere else (MODELWARD_BANDWIDTH_LIMIT=20MB/s):
# a bare number is refused rather than read as bytes.
_UNIT_VARIABLES = (
    ("bandwidth_limit_bytes_per_s", "MODELWARD_BANDWIDTH_LIMIT", parse_rate),
    ("scrub_budget_bytes", "MODELWARD_SCRUB_BUDGET", parse_size),
    ("low_space_bytes", "MODELWARD_LOW_SPACE", parse_size),
)


def _with_units(env: Mapping[str, str]) -> dict[str, object]:
    return {key: _parsed(parse, name, env) for key, name, parse in _UNIT_VARIABLES if env.get(name)}


def _features(env: Mapping[str, str]) -> dict[str, object]:
    # MODELWARD_FEATURES_OFF=retries,mock_fallback, or one MODELWARD_FEATURE_<NAME>=0|1 each.
    off = _names(env.get("MODELWARD_FEATURES_OFF", ""))
    unknown = sorted(set(off) - set(FEATURES))
    if unknown:
        raise ConfigError(
            f"MODELWARD_FEATURES_OFF: unknown feature {', '.join(unknown)}",
            hint=f"Known features: {', '.join(FEATURES)}.",
        )
    values: dict[str, object] = {f"feature_{name}": False for name in off}
    for name in FEATURES:
        raw = env.get(f"MODELWARD_FEATURE_{name.upper()}")
        if raw:
            values[f"feature_{name}"] = _is_true(raw)
    return values


def _names(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _parsed(parse: Callable[[str], int], name: str, env: Mapping[str, str]) -> int:
    try:
        return parse(env[name])
    except ConfigError as error:
        raise ConfigError(f"{name}: {error.message}", hint=error.hint) from None


def _hf_home(env: Mapping[str, str]) -> Path:
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser()
    xdg = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "huggingface"


def _hf_cache_dir(env: Mapping[str, str]) -> Path:
    # Same precedence as huggingface_hub, so both tools share one cache.
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(name):
            return Path(env[name]).expanduser()
    return _hf_home(env) / "hub"


def _modelward_home(env: Mapping[str, str]) -> Path:
    if env.get("MODELWARD_HOME"):
        return Path(env["MODELWARD_HOME"]).expanduser()
    xdg = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "modelward"


def _catalog_files(env: Mapping[str, str]) -> tuple[Path, ...]:
    raw = env.get("MODELWARD_CATALOG", "")
    return tuple(Path(p).expanduser() for p in raw.split(os.pathsep) if p)


def _is_true(value: str) -> bool:
    # The values huggingface_hub accepts for its boolean variables, so both agree.
    return value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def _hf_token(env: Mapping[str, str]) -> str | None:
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        if env.get(name):
            return env[name].strip()
    token_path = Path(env.get("HF_TOKEN_PATH") or _hf_home(env) / "token").expanduser()
    try:
        token = token_path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None
