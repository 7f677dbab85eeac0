"""The real Hub's manners, each switchable and all off by default.

HTTPS with a CA made for the run (the CDN on its own listener and host name), expiring
signed CDN URLs, a round-trip time charged per connection and per request, and a rate
limit on ``resolve`` and ``/api`` calls announced in the IETF ``RateLimit`` headers
(draft-ietf-httpapi-ratelimit-headers: ``RateLimit-Policy: "resolve";q=100;w=60`` and
``RateLimit: "resolve";r=37;t=23``).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import shutil
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from modelward.devhub.http11 import Response, error_response
from modelward.errors import ConfigError


@dataclass(frozen=True)
class Manners:
    """Which of the real Hub's manners the local hub shows; the default shows none."""

    tls: bool = False
    rtt_s: float = 0.0
    cdn_url_ttl_s: float | None = None
    rate_limit: int | None = None
    rate_window_s: float = 60.0


class HubTLS:
    """A CA and one server certificate for the hub's and the CDN's names, made for the run."""

    def __init__(self, names: list[str]) -> None:
        # Imported here: trustme (a dev dependency) is only needed when HTTPS is switched on.
        try:
            import trustme
        except ImportError:
            raise ConfigError(
                "the local hub's HTTPS needs the trustme package",
                hint="Install modelward's dev extras (pip install -e '.[dev]') or trustme.",
            ) from None

        ca = trustme.CA()
        cert = ca.issue_cert(*dict.fromkeys(names))
        self._dir = Path(tempfile.mkdtemp(prefix="devhub-tls-"))
        self.ca_path = self._dir / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(self.context)

    def remove(self) -> None:
        """Delete the CA bundle written for the run."""
        shutil.rmtree(self._dir, ignore_errors=True)


class UrlSigner:
    """Signs CDN paths with an expiry, CloudFront-style: ``?Expires=T&Signature=S``."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._key = secrets.token_bytes(32)

    def _signature(self, path: str, expires: str) -> str:
        return hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str) -> str:
        """Query parameters that make ``path`` fetchable until the TTL from now."""
        expires = str(math.ceil(time.time() + self.ttl_s))
        return f"Expires={expires}&Signature={self._signature(path, expires)}"

    def refusal(self, path: str, query: dict[str, str]) -> Response | None:
        """The CDN's 403 for a missing, bad or expired signature; None when it holds."""
        expires, given = query.get("Expires", ""), query.get("Signature", "")
        if not expires.isdigit() or not hmac.compare_digest(given, self._signature(path, expires)):
            return _access_denied("Invalid signature")
        if time.time() > int(expires):
            return _access_denied("Request has expired")
        return None


def _access_denied(message: str) -> Response:
    """The 403 the Hub's CDN (CloudFront) sends: an XML ``AccessDenied`` error."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>"
    ).encode()
    return Response(403, {"Content-Type": "text/xml"}, body)


class RateLimiter:
    """N calls per fixed window for each policy name (``resolve``, ``api``)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self._windows: dict[str, tuple[float, int]] = {}

    def take(self, name: str) -> tuple[bool, dict[str, str]]:
        """Count one call; whether it is allowed and the headers that announce the limit."""
        now = time.monotonic()
        start, used = self._windows.get(name, (now, 0))
        if now - start >= self.window_s:
            start, used = now, 0
        allowed = used < self.limit
        used += allowed
        self._windows[name] = (start, used)
        reset = max(1, math.ceil(self.window_s - (now - start)))
        headers = {
            "RateLimit-Policy": f'"{name}";q={self.limit};w={math.ceil(self.window_s)}',
            "RateLimit": f'"{name}";r={self.limit - used};t={reset}',
        }
        if not allowed:
            headers["Retry-After"] = str(reset)
        return allowed, headers


def policy_name(path: str) -> str | None:
    """The rate-limit policy a hub path falls under: ``resolve``, ``api`` or none."""
    if path.startswith("/api/"):
        return "api"
    return "resolve" if "/resolve/" in path else None


def rate_limited(headers: dict[str, str]) -> Response:
    """The 429 past the limit, with the same headers a successful call gets."""
    resp = error_response(429, "You have been rate-limited; retry after the announced time.")
    resp.headers.update(headers)
    return resp
