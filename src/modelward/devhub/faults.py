"""The fault menu: what can go wrong on the wire, which requests it hits, how many times.

A ``FaultPlan`` is a list of ``Fault``s; all that match a request apply together (a rate cap
plus corrupted bytes plus a drop, say). ``status`` and ``hostile`` faults replace the
response (an error status; a 200 with a hostile body: JSON nested absurdly deep, a huge JSON
answer, an HTML error page in place of a file); the others
act on the body of a file response (GET of file bytes, 200 or 206), so a HEAD or a redirect
never uses up a body fault's ``times``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["rate", "drop", "status", "stall", "corrupt", "short", "hostile"]
BODY_KINDS: frozenset[str] = frozenset({"rate", "drop", "stall", "corrupt", "short"})
REPLACING_KINDS: frozenset[str] = frozenset({"status", "hostile"})
HostileAnswer = Literal["deep-json", "huge-json", "html", "html-as-bytes"]
HOSTILE_ANSWERS: frozenset[str] = frozenset({"deep-json", "huge-json", "html", "html-as-bytes"})


@dataclass(frozen=True)
class Fault:
    """One fault: its kind, which requests it hits (glob, methods, times, probability), knobs.

    ``path_glob`` is matched against the request path and, for file requests, against
    ``"{repo_id}/{file path}"`` too, so ``"*.safetensors"`` hits resolve and CDN requests.
    """

    kind: FaultKind
    path_glob: str = "*"
    times: int | None = None
    probability: float = 1.0
    methods: tuple[str, ...] = ()
    rate_bytes_per_s: int = 0
    after_bytes: int = 0
    status: int = 503
    retry_after_s: float | None = None
    stall_s: float | None = None
    offset_start: int = 0
    offset_end: int | None = None
    reset: bool = False
    answer: str = ""
    answer_size: int = 0

    @classmethod
    def rate(cls, rate_bytes_per_s: int, **kw: Any) -> Fault:
        """Cap each matching response's body at ``rate_bytes_per_s``."""
        return cls("rate", rate_bytes_per_s=rate_bytes_per_s, **kw)

    @classmethod
    def drop(cls, after_bytes: int, **kw: Any) -> Fault:
        """Close the connection after ``after_bytes`` body bytes (``reset=True``: with RST).

        An RST makes the peer's kernel discard bytes it has not read yet, so only the clean
        close guarantees the client got exactly ``after_bytes``.
        """
        return cls("drop", after_bytes=after_bytes, **kw)

    @classmethod
    def short(cls, after_bytes: int, **kw: Any) -> Fault:
        """Send ``after_bytes`` of the promised body, then close the connection cleanly."""
        return cls("short", after_bytes=after_bytes, **kw)

    @classmethod
    def stall(cls, after_bytes: int, stall_s: float | None = None, **kw: Any) -> Fault:
        """Stop sending after ``after_bytes`` for ``stall_s`` seconds (None: forever)."""
        return cls("stall", after_bytes=after_bytes, stall_s=stall_s, **kw)

    @classmethod
    def corrupt(cls, offset_start: int, offset_end: int | None = None, **kw: Any) -> Fault:
        """Flip the bits of file bytes in ``[offset_start, offset_end)`` wherever sent."""
        end = offset_start + 1 if offset_end is None else offset_end
        return cls("corrupt", offset_start=offset_start, offset_end=end, **kw)

    @classmethod
    def http_status(cls, status: int, retry_after_s: float | None = None, **kw: Any) -> Fault:
        """Answer matching requests with ``status`` (500, 503, 429, 404, 401...)."""
        return cls("status", status=status, retry_after_s=retry_after_s, **kw)

    @classmethod
    def hostile(cls, answer: HostileAnswer, size: int = 0, **kw: Any) -> Fault:
        """Answer matching requests with 200 and a hostile body: ``deep-json`` (arrays nested
        ``size`` deep), ``huge-json`` (``size`` bytes of one JSON string, never in memory),
        ``html`` (an error page, as a proxy or CDN sends in place of a file) or
        ``html-as-bytes`` (the same page labelled ``application/octet-stream``)."""
        return cls("hostile", answer=answer, answer_size=size, **kw)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``POST /_devhub/faults``."""
        raw = dataclasses.asdict(self)
        raw["methods"] = list(self.methods)
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Fault:
        """Parse the JSON form; unknown keys or kinds raise ValueError."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(raw) - names
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        if raw.get("kind") not in BODY_KINDS | REPLACING_KINDS:
            raise ValueError(f"unknown fault kind: {raw.get('kind')!r}")
        if raw.get("kind") == "hostile" and raw.get("answer") not in HOSTILE_ANSWERS:
            raise ValueError(f"unknown hostile answer: {raw.get('answer')!r}")
        values = dict(raw)
        values["methods"] = tuple(m.upper() for m in values.get("methods", ()))
        return cls(**values)

    def touches(self, offset: int, length: int) -> bool:
        """Whether this fault changes a body of ``length`` file bytes starting at ``offset``."""
        if self.kind == "corrupt":
            end = self.offset_end if self.offset_end is not None else self.offset_start + 1
            return self.offset_start < offset + length and end > offset
        if self.kind in ("drop", "short", "stall"):
            return self.after_bytes < length
        return True

    def matches(self, method: str, names: tuple[str, ...]) -> bool:
        """Whether this fault targets a request with ``method`` and these path names."""
        if self.methods and method.upper() not in self.methods:
            return False
        return any(fnmatch.fnmatchcase(name, self.path_glob) for name in names)


@dataclass(frozen=True)
class FaultPlan:
    """The faults active for a run, and the seed for their probabilities."""

    faults: tuple[Fault, ...] | list[Fault] = ()
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by ``POST /_devhub/faults``."""
        return {"faults": [f.to_dict() for f in self.faults], "seed": self.seed}

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | list[Any]) -> FaultPlan:
        """Parse ``{"faults": [...], "seed": n}`` or a bare list of faults."""
        if isinstance(raw, list):
            raw = {"faults": raw}
        return cls(
            tuple(Fault.from_dict(f) for f in raw.get("faults", [])), int(raw.get("seed", 0))
        )


@dataclass
class FaultState:
    """A plan being applied: how many more times each fault may fire."""

    plan: FaultPlan = field(default_factory=FaultPlan)
    remaining: list[int | None] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def start(cls, plan: FaultPlan) -> FaultState:
        """Fresh state for ``plan``."""
        return cls(plan, [f.times for f in plan.faults], random.Random(plan.seed))

    def take(
        self,
        method: str,
        names: tuple[str, ...],
        kinds: frozenset[str],
        span: tuple[int, int] | None = None,
    ) -> list[Fault]:
        """The faults of ``kinds`` that fire for this request, using up their counts.

        With ``span`` (file offset, length of the body) a body fault that would not change
        this body (bytes outside the range, a cut past its end) neither fires nor counts.
        """
        fired: list[Fault] = []
        for i, fault in enumerate(self.plan.faults):
            if fault.kind not in kinds or not fault.matches(method, names):
                continue
            if span is not None and not fault.touches(*span):
                continue
            left = self.remaining[i]
            if left is not None and left <= 0:
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            if left is not None:
                self.remaining[i] = left - 1
            fired.append(fault)
        return fired

    def describe(self) -> list[dict[str, Any]]:
        """The plan with each fault's remaining count, for ``GET /_devhub/faults``."""
        return [
            {**f.to_dict(), "remaining": left}
            for f, left in zip(self.plan.faults, self.remaining, strict=True)
        ]
