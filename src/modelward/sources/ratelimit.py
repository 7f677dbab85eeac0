"""The hub's rate limits: what its headers announce, and a gate that waits before asking.

The Hub announces its limits with the IETF headers (draft-ietf-httpapi-ratelimit-headers):
``RateLimit-Policy: "resolve";q=100;w=60`` (quota per window) and ``RateLimit:
"resolve";r=37;t=23`` (calls left, seconds until the window resets), with ``Retry-After``
on a 429. Waiting for ``t`` once ``r`` reaches 0 costs nothing; asking anyway earns a 429
and, on the real Hub, a longer penalty.
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from modelward.errors import RateLimitedError

_PARAM_RE = re.compile(r";\s*([a-z]+)\s*=\s*(\d+)")
_MEMBER_RE = re.compile(r"(?:^|,)\s*([a-z]+)\s*=\s*(\d+)")
_OLD_NAMES = {"remaining": "r", "reset": "t", "limit": "q"}
_EPOCH_THRESHOLD = 1e9
METADATA_BUCKET = "api"
"""The gate's bucket for metadata (``/api/``) calls."""
RESOLVE_BUCKET = "resolve"
"""The Hub counts file ``resolve`` calls apart from its ``api`` (metadata) calls."""
_SAME_WINDOW_S = 1.5
"""Two answers whose resets differ by less are about the same window (``t`` is whole
seconds, and the answers took their time to arrive)."""
MAX_WAIT_S = 3600.0
"""The longest wait believed; a larger figure is a misconfigured server, capped."""


@dataclass(frozen=True, slots=True)
class RateLimitState:
    """What one answer said about the limit: calls left, seconds until the reset, and the
    policy (calls per window, the window's length)."""

    remaining: int | None
    reset_s: float | None
    retry_after_s: float | None
    quota: int | None = None
    window_s: float | None = None


def _params(value: str) -> dict[str, int]:
    """The integer parameters of the tightest item of a structured-field header
    (``"resolve";r=37;t=23``: fewest calls left, then longest reset), or the members of
    the older drafts' dictionary form (``limit=100, remaining=37, reset=23``)."""
    items = [
        {name: int(number) for name, number in _PARAM_RE.findall(item)} for item in value.split(",")
    ]
    items = [item for item in items if item]
    if items:
        return min(items, key=lambda item: (item.get("r", 1 << 62), -item.get("t", 0)))
    members = dict(_MEMBER_RE.findall(value))
    return {_OLD_NAMES[k]: int(v) for k, v in members.items() if k in _OLD_NAMES}


def read_rate_limit(headers: Mapping[str, str]) -> RateLimitState:
    """Parse ``RateLimit`` (and the older ``RateLimit-Remaining``/``-Reset``) and
    ``Retry-After`` from an answer's headers (names in any case)."""
    lower = {name.lower(): value for name, value in headers.items()}
    params = _params(lower.get("ratelimit", ""))
    remaining = params.get("r")
    reset: float | None = params.get("t")
    legacy_remaining = lower.get("ratelimit-remaining", "").strip()
    if remaining is None and legacy_remaining.isdigit():
        remaining = int(legacy_remaining)
    if reset is None:
        reset = _legacy_reset(lower.get("ratelimit-reset", ""))
    policy = _params(lower.get("ratelimit-policy", ""))
    window = policy.get("w")
    return RateLimitState(
        remaining=remaining,
        reset_s=_capped(None if reset is None else float(reset)),
        retry_after_s=_capped(parse_retry_after(lower.get("retry-after"))),
        quota=policy.get("q"),
        window_s=_capped(None if window is None else float(window)),
    )


def _legacy_reset(value: str) -> float | None:
    """``RateLimit-Reset`` in seconds; a figure past 10**9 is a Unix time (as some
    servers send), turned into seconds from now."""
    value = value.strip()
    if not value.isdigit():
        return None
    seconds = float(value)
    return max(0.0, seconds - time.time()) if seconds > _EPOCH_THRESHOLD else seconds


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


def _capped(value: float | None) -> float | None:
    return None if value is None else min(value, MAX_WAIT_S)


MIN_WAIT_S = 1.0
"""The shortest wait after a refusal: a 429 announcing 0 s (or a time past) would otherwise
be asked again at once, and again, since a wait is never counted as a failure."""


def wait_after_refusal(state: RateLimitState) -> float:
    """Seconds to wait after a 429: Retry-After, else the window's reset, else 1 s (never
    less than :data:`MIN_WAIT_S`)."""
    if state.retry_after_s is not None:
        return max(state.retry_after_s, MIN_WAIT_S)
    if state.reset_s is not None:
        return max(state.reset_s, MIN_WAIT_S)
    return MIN_WAIT_S


@dataclass(slots=True)
class _Window:
    """One host's (bucket's) limit as the gate knows it; monotonic times."""

    closed_until: float = 0.0
    ends_at: float = 0.0
    left: int | None = None
    """Calls left before ``ends_at`` (None: not known, so not counted)."""
    quota: int | None = None
    window_s: float | None = None

    def admit(self, now: float) -> float:
        """Count one call now; or, when the limit is used up, the seconds to wait."""
        if now < self.closed_until:
            return self.closed_until - now
        if now >= self.ends_at:
            # A fresh window: its calls are the policy's quota (the answers correct it).
            known = self.quota is not None and self.window_s is not None
            self.left = self.quota if known else None
            self.ends_at = now + (self.window_s or 0.0) if known else 0.0
        if self.left is None:
            return 0.0
        if self.left <= 0:
            # Used up here, though no answer said so yet: a call now would earn a 429.
            self.closed_until = self.ends_at
            return self.ends_at - now
        self.left -= 1
        return 0.0

    def learn(self, state: RateLimitState, now: float, refused: bool) -> float:
        """Take in what one answer said; the wait it imposes (0: none)."""
        if state.quota is not None and state.window_s:
            self.quota, self.window_s = state.quota, state.window_s
        if refused:
            wait = wait_after_refusal(state)
            self._close(now + wait)
            return wait
        if state.remaining is None or state.reset_s is None:
            return 0.0
        ends = now + state.reset_s
        same = self.left is not None and abs(ends - self.ends_at) < _SAME_WINDOW_S
        # Answers overtake each other: within one window, the fewest calls left is right.
        self.left = (
            min(self.left, state.remaining) if same and self.left is not None else (state.remaining)
        )
        self.ends_at = ends
        if state.remaining > 0:
            return 0.0
        self._close(ends)
        return state.reset_s

    def _close(self, until: float) -> None:
        self.closed_until = max(self.closed_until, until)
        self.ends_at = max(self.ends_at, until)
        self.left = 0


class RateLimitGate:
    """Remembers, per host, what its limit allows (thread-safe).

    Fed with every answer's headers; asked before each call, it counts the call against
    the calls the host said are left (the policy's quota in a fresh window) and raises
    :class:`RateLimitedError` with the wait instead of spending a call that would be
    refused: at a window's end, the waiting calls do not all rush in for a 429 each.
    A ``bucket`` keeps a host's separately counted limits apart (the Hub counts ``api``
    calls and ``resolve`` calls in different windows).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}

    def note(
        self,
        host: str,
        headers: Mapping[str, str],
        *,
        refused: bool = False,
        bucket: str | None = None,
    ) -> float:
        """Record what an answer from ``host`` said; return the wait it imposes (0: none)."""
        state = read_rate_limit(headers)
        with self._lock:
            window = self._windows.setdefault(_key(host, bucket), _Window())
            return window.learn(state, time.monotonic(), refused)

    def wait_s(self, host: str, *, bucket: str | None = None) -> float:
        """Seconds until ``host`` takes calls again (0: now), counting no call."""
        with self._lock:
            window = self._windows.get(_key(host, bucket))
            until = window.closed_until if window else 0.0
        return max(0.0, until - time.monotonic())

    def check(self, host: str, what: str, *, bucket: str | None = None) -> None:
        """Count a call to ``host`` about to be made, or raise :class:`RateLimitedError`
        when its limit is used up until the window resets."""
        with self._lock:
            window = self._windows.setdefault(_key(host, bucket), _Window())
            wait = window.admit(time.monotonic())
        if wait > 0:
            raise rate_limited_error(what, wait)


def _key(host: str, bucket: str | None) -> str:
    return host if bucket is None else f"{host} [{bucket}]"


def rate_limit_host(url: str) -> str:
    """The gate's name for the host ``url`` goes to (host and port, lower case)."""
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def rate_limited_error(what: str, wait_s: float) -> RateLimitedError:
    """The error that makes the download wait ``wait_s`` and carry on."""
    return RateLimitedError(
        f"{what}: rate-limited by the hub, resuming in {max(1, round(wait_s))} s",
        retry_after_s=wait_s,
    )
