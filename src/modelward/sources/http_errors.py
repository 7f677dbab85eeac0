"""Translating HTTP failures into modelward errors.

Every caught httpx exception is turned into a modelward error here; everything after it sees
modelward errors whose ``retryable`` flag decides what the retry loop does.
"""

from __future__ import annotations

import email.utils
import time

import httpx

from modelward.errors import (
    AuthRequiredError,
    ConfigError,
    IncompleteTransferError,
    ModelwardError,
    ProtocolViolationError,
    RemoteNotFoundError,
    SourceUnavailableError,
)


def parse_retry_after(value: str | None) -> float | None:
    """Return the delay a ``Retry-After`` header asks for, in seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Raise the modelward error that fits a non-success response about ``what``."""
    status = response.status_code
    if status < 400:
        return
    error_code = response.headers.get("X-Error-Code", "")
    if status in (401, 403):
        raise AuthRequiredError(
            f"{what}: the server refused access (HTTP {status}"
            f"{', ' + error_code if error_code else ''})"
        )
    if status == 404:
        detail = {
            "RepoNotFound": "repository not found",
            "RevisionNotFound": "revision not found",
            "EntryNotFound": "file not found in this revision",
        }.get(error_code, "not found")
        raise RemoteNotFoundError(f"{what}: {detail} (HTTP 404)")
    if status == 429 or status >= 500:
        raise SourceUnavailableError(
            f"{what}: the server is busy or failing (HTTP {status})",
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
    raise ProtocolViolationError(f"{what}: unexpected HTTP {status}")


def translate_transport_error(exc: httpx.HTTPError | httpx.InvalidURL, what: str) -> ModelwardError:
    """Map an httpx transport failure to a modelward error (retryable when it may pass)."""
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ConfigError(
            f"{what}: the URL is not usable ({exc})",
            hint="Check HF_ENDPOINT / --endpoint or the catalog's URLs "
            "(they need http:// or https://).",
        )
    if isinstance(exc, httpx.TimeoutException):
        return IncompleteTransferError(f"{what}: the server stopped sending ({type(exc).__name__})")
    if isinstance(exc, httpx.RemoteProtocolError):
        return IncompleteTransferError(f"{what}: the connection ended early ({exc})")
    if isinstance(exc, httpx.ConnectError):
        return SourceUnavailableError(f"{what}: cannot connect ({exc})")
    return IncompleteTransferError(f"{what}: {type(exc).__name__}: {exc}")
