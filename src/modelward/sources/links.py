"""The CDN URL each file's ``resolve`` redirected to, kept until it expires.

The Hub answers ``resolve`` with a redirect to a signed CDN URL that stays valid for a
while (CloudFront's ``Expires=``, S3's ``X-Amz-Date`` + ``X-Amz-Expires``). Asking again
per segment would cost a rate-limited call and a round trip each time: a 126 GB model in
32 MiB segments is about 4,000 of them. One resolve per file, reused by every segment until
just before the URL says it expires (or until the CDN refuses it), is what it needs.
"""

from __future__ import annotations

import calendar
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

EXPIRY_MARGIN_S = 10.0
"""A URL this close to its expiry is not used for a new request: the request must reach
the CDN before it expires, and clocks differ. A URL valid for less than four times this
keeps a quarter of its lifetime as the margin instead."""


@dataclass(frozen=True, slots=True)
class Link:
    """A CDN URL and, when it says so, the wall-clock time it expires."""

    url: str
    expires_at: float | None
    obtained_at: float

    def usable(self, now: float | None = None) -> bool:
        """Whether a request sent now would still find it valid."""
        if self.expires_at is None:
            return True
        margin = min(EXPIRY_MARGIN_S, (self.expires_at - self.obtained_at) / 4)
        return (time.time() if now is None else now) < self.expires_at - margin


def link_for(url: str) -> Link:
    """A :class:`Link` for a redirect target, with the expiry its query states."""
    return Link(url, expiry_of(url), time.time())


def expiry_of(url: str) -> float | None:
    """The Unix time a signed URL expires at, from CloudFront's, S3's or GCS's parameters."""
    query = {k.lower(): v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    expires = query.get("expires", "")
    if expires.isdigit():
        return float(expires)
    # S3's and Google Cloud Storage's V4 signatures: signed at, valid for seconds.
    signed_at = query.get("x-amz-date") or query.get("x-goog-date") or ""
    lifetime = query.get("x-amz-expires") or query.get("x-goog-expires") or ""
    if lifetime.isdigit():
        try:
            start = calendar.timegm(time.strptime(signed_at, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            return None
        return float(start + int(lifetime))
    return None


class LinkCache:
    """Links per file, and a lock per file so that concurrent segments resolve it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._links: dict[Hashable, Link] = {}
        self._resolving: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable) -> Link | None:
        """The file's link when a request sent now can still use it."""
        with self._lock:
            link = self._links.get(key)
        return link if link is not None and link.usable() else None

    def put(self, key: Hashable, link: Link) -> None:
        """Remember the link a resolve redirected to."""
        with self._lock:
            self._links[key] = link

    def forget(self, key: Hashable, url: str) -> None:
        """Drop ``url`` for the file (the CDN refused it); a newer link stays."""
        with self._lock:
            if (link := self._links.get(key)) is not None and link.url == url:
                del self._links[key]

    def resolving(self, key: Hashable) -> threading.Lock:
        """The lock held while the file is being resolved."""
        with self._lock:
            return self._resolving.setdefault(key, threading.Lock())
