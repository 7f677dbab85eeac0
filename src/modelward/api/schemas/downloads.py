"""Bodies of downloads, the download queue and bandwidth caps."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from modelward.api.schemas.limits import MAX_COUNT
from modelward.transfer import DownloadStatus, Priority
from modelward.units import MAX_RATE_BYTES_PER_S


class FileProgressPublic(BaseModel):
    """One file's share of a download."""

    model_config = ConfigDict(from_attributes=True)

    path: str
    total_bytes: int
    done_bytes: int
    verified: bool


class DownloadProgressPublic(BaseModel):
    """The seed's DownloadProgress as JSON."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    status: DownloadStatus
    progress_percent: float
    downloaded_mb: float = Field(description="Decimal MB (10^6 bytes); see downloaded_bytes.")
    total_mb: float = Field(description="Decimal MB (10^6 bytes); see total_bytes.")
    speed_mbps: float = Field(description="Decimal MB/s; see speed_bytes_per_s.")
    eta_seconds: float | None
    retry_count: int = Field(description="Failed requests made again (rate-limit waits not).")
    max_retries: int
    error_message: str | None
    error_code: str | None
    can_pause: bool
    can_resume: bool
    can_cancel: bool
    downloaded_bytes: int
    total_bytes: int
    speed_bytes_per_s: int
    files: dict[str, FileProgressPublic]
    waiting: str | None = Field(
        default=None,
        description="Why the running download waits, as shown: 'rate-limited by the hub, "
        "resuming in 12 s' (null once bytes flow). Rate-limit waits are no retries.",
    )
    resume_at: datetime | None = Field(
        default=None, description="When that wait ends (count down to it)."
    )
    metadata_from: str | None = Field(
        default=None,
        description="Where the files and checksums came from when not from the Hub: "
        "'the mirror s3://team/hf (the Hub: unreachable)' (null: the Hub).",
    )


class DownloadAccepted(BaseModel):
    """The answer to a download request: the job runs in the background."""

    model_id: str
    status: DownloadStatus
    joined: bool = Field(
        default=False, description="The download was already running; this request joined it."
    )
    progress_url: str


class DownloadControlPublic(BaseModel):
    """The answer to pause or resume: whether the request changed anything."""

    model_id: str
    action: str
    changed: bool


class CancelPublic(BaseModel):
    """The answer to cancel: whether a transfer was stopped and the space freed."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    stopped: bool
    freed_bytes: int


class PriorityUpdate(BaseModel):
    """A new priority for a model's download."""

    priority: Priority


class PriorityPublic(BaseModel):
    """A model's download priority."""

    model_id: str
    priority: Priority


class QueueEntryPublic(BaseModel):
    """One model in the download queue."""

    model_config = ConfigDict(from_attributes=True)

    model_id: str
    priority: Priority
    position: int = Field(description="Place in line: 1 gets connections first.")
    status: DownloadStatus
    downloaded_bytes: int = Field(
        default=0, description="As /models/{id}/download reports it at the same moment."
    )
    total_bytes: int = 0
    progress_percent: float = 0.0


class QueuePublic(BaseModel):
    """The download queue, in the order connections are given out."""

    data: list[QueueEntryPublic]
    count: int


class QueueMove(BaseModel):
    """Where to put a model in the queue (1 is the front)."""

    position: int = Field(ge=1, le=MAX_COUNT, description="1 = the front; past the end = the back.")


class QueueOrderPublic(BaseModel):
    """The queue's model ids after a move, front first."""

    order: list[str]


_RATE_DESCRIPTION = (
    "Bytes per second as a whole number (20 MB/s = 20000000); 0 = unlimited, "
    f"at most {MAX_RATE_BYTES_PER_S} (1 TB/s)."
)


class BandwidthUpdate(BaseModel):
    """A bandwidth cap in bytes per second; 0 means unlimited."""

    limit_bytes_per_s: int = Field(
        ge=0, le=MAX_RATE_BYTES_PER_S, strict=True, description=_RATE_DESCRIPTION
    )

    @field_validator("limit_bytes_per_s", mode="before")
    @classmethod
    def _whole_bytes_per_s(cls, value: object) -> object:
        # One message for every wrong value (a string such as "20MB/s", a fraction, a
        # negative or absurd figure), saying what the field takes.
        if isinstance(value, bool) or not isinstance(value, int):
            raise PydanticCustomError(
                "rate", "not a rate: {value}. " + _RATE_DESCRIPTION, {"value": repr(value)}
            )
        if not 0 <= value <= MAX_RATE_BYTES_PER_S:
            raise PydanticCustomError(
                "rate", "{value} is out of range. " + _RATE_DESCRIPTION, {"value": value}
            )
        return value


class BandwidthPublic(BaseModel):
    """The cap on the total download rate, in bytes per second (0 = unlimited)."""

    limit_bytes_per_s: int


class ModelBandwidthPublic(BaseModel):
    """The cap on one model's download rate, in bytes per second (0 = no cap of its own)."""

    model_id: str
    limit_bytes_per_s: int
