"""Translating HTTP failures into modelward errors.

Every caught httpx exception is turned into a modelward error here; everything after it sees
modelward errors whose ``retryable`` flag decides what the retry loop does.
"""

from __future__ import annotations

import ssl
from typing import Protocol

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
from modelward.sources.ratelimit import (
    parse_retry_after,
    rate_limited_error,
    read_rate_limit,
    wait_after_refusal,
)


class Answer(Protocol):
    """What judging an answer needs: its status and headers (httpx's or the pool's)."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        ...

    @property
    def headers(self) -> httpx.Headers:
        """The answer's headers."""
        ...


def raise_for_status(response: Answer, what: str) -> None:
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
    if status == 429:
        # The hub's pacing, not a failure: wait what it announced (RateLimit or
        # Retry-After) and carry on.
        raise rate_limited_error(what, wait_after_refusal(read_rate_limit(response.headers)))
    if status >= 500:
        raise SourceUnavailableError(
            f"{what}: the server is busy or failing (HTTP {status})",
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 408:
        # Sent by servers closing an idle kept connection just as a request crossed it.
        raise IncompleteTransferError(f"{what}: the server timed the request out (HTTP 408)")
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
        if (untrusted := _certificate_error(exc)) is not None:
            return untrusted_certificate(what, untrusted)
        return SourceUnavailableError(f"{what}: cannot connect ({exc})")
    return IncompleteTransferError(f"{what}: {type(exc).__name__}: {exc}")


def untrusted_certificate(what: str, exc: ssl.SSLCertVerificationError) -> SourceUnavailableError:
    """A certificate no trusted CA signed: not retried (it will not pass by itself)."""
    return SourceUnavailableError(
        f"{what}: the server's TLS certificate is not trusted ({exc.verify_message})",
        hint="If a private CA signs it, point SSL_CERT_FILE at the CA bundle "
        "(REQUESTS_CA_BUNDLE for huggingface_hub).",
        retryable=False,
    )


def _certificate_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate failure behind an httpx error, found along its chain of causes."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None or isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
