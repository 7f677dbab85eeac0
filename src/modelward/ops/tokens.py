"""Named access tokens with scopes: ``read`` < ``operate`` < ``admin``.

Tokens live in ``MODELWARD_HOME/tokens.json`` (mode 0600), each stored as the sha256 of
its text with its name, scope, creation time and last four characters (a hint to tell
tokens apart); the text itself is shown once, when it is made. The service's own token
(``MODELWARD_TOKEN`` or ``MODELWARD_HOME/api-token``) is the admin token named
``service``. Every check compares in constant time, so timing tells nothing about a token.

A ``tokens.json`` that cannot be read locks nobody out: the service token is checked without
it, the fault is logged once per change of the file, and any other token is answered with
``TokenFileError`` (503, telling the admin to fix the file) until it is fixed.
"""

from __future__ import annotations

import builtins
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from modelward.errors import ConfigError, TokenFileError, UnknownTokenError

logger = logging.getLogger(__name__)

Scope = Literal["read", "operate", "admin"]
"""What a token may do: read (every GET), operate (downloads, repairs...), admin (all)."""

SCOPES: tuple[Scope, ...] = get_args(Scope)
SERVICE = "service"
"""The name of the service's own token (always admin)."""

TOKENS_FILE = "tokens.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PREFIX = "mw_"
_Entries = list[dict[str, Any]]
_Key = tuple[int, int, int]


def allows(have: Scope, need: Scope) -> bool:
    """True when a token of scope ``have`` may do what needs ``need``."""
    return SCOPES.index(have) >= SCOPES.index(need)


def parse_scope(value: str) -> Scope:
    """``value`` as a scope; ConfigError naming the valid ones otherwise."""
    if value not in SCOPES:
        raise ConfigError(f"unknown scope {value!r}", hint=f"Use one of: {', '.join(SCOPES)}.")
    return value


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a token's name and scope."""

    name: str
    scope: Scope


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored token as listed: never its text or its hash."""

    name: str
    scope: Scope
    created_at: float
    hint: str
    """The token's last four characters."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    """The named tokens of one MODELWARD_HOME, plus the service's own admin token."""

    def __init__(self, home: Path, service_token: str | None = None) -> None:
        self.path = home / TOKENS_FILE
        self._service_digest = _digest(service_token) if service_token else None
        self._cache: tuple[_Key, _Entries] | None = None
        self._broken: tuple[_Key, TokenFileError] | None = None

    def create(self, name: str, scope: str) -> str:
        """Make a token called ``name``; returns its text (shown this once)."""
        _check_name(name)
        checked = parse_scope(scope)
        token = _PREFIX + secrets.token_urlsafe(32)
        with self._locked():
            entries = self._read()
            if any(e["name"] == name for e in entries):
                raise ConfigError(
                    f"a token named {name!r} exists",
                    hint=f"Pick another name, or revoke it first (modelward token revoke {name}).",
                )
            entries.append(
                {
                    "name": name,
                    "scope": checked,
                    "sha256": _digest(token),
                    "created_at": time.time(),
                    "hint": token[-4:],
                }
            )
            self._write(entries)
        return token

    def list(self) -> builtins.list[TokenInfo]:
        """Every stored token (the service's own one first when it is known)."""
        found = [
            TokenInfo(e["name"], e["scope"], float(e["created_at"]), e["hint"])
            for e in self._read()
        ]
        if self._service_digest:
            found.insert(0, TokenInfo(SERVICE, "admin", 0.0, ""))
        return found

    def revoke(self, name: str) -> TokenInfo:
        """Remove the token called ``name``; UnknownTokenError when there is none."""
        if name == SERVICE:
            raise ConfigError(
                "the service token cannot be revoked here",
                hint="Set a new MODELWARD_TOKEN, or delete MODELWARD_HOME/api-token and "
                "restart the service (it makes a new one).",
            )
        with self._locked():
            entries = self._read()
            gone = [e for e in entries if e["name"] == name]
            if not gone:
                raise UnknownTokenError(f"no token is named {name!r}")
            self._write([e for e in entries if e["name"] != name])
        entry = gone[0]
        return TokenInfo(entry["name"], entry["scope"], float(entry["created_at"]), entry["hint"])

    def authenticate(self, token: str) -> Principal | None:
        """The principal ``token`` belongs to, or None; every stored digest is compared, in
        constant time, whatever matches."""
        given = _digest(token).encode()
        found: Principal | None = None
        if self._service_digest and hmac.compare_digest(given, self._service_digest.encode()):
            found = Principal(SERVICE, "admin")
        try:
            entries = self._read()
        except TokenFileError:
            if found is not None:
                return found  # the admin can still act, e.g. to fix the file
            raise
        for entry in entries:
            if hmac.compare_digest(given, str(entry["sha256"]).encode()) and found is None:
                found = Principal(entry["name"], entry["scope"])
        return found

    def _read(self) -> _Entries:
        """The stored entries, re-read only when the file changed (the CLI may change it
        while the service runs)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if self._broken is not None and self._broken[0] == key:
            raise self._broken[1]
        if self._cache is None or self._cache[0] != key:
            try:
                self._cache = (key, _parse(self.path))
            except TokenFileError as error:
                logger.error("%s; %s", error.message, error.hint)  # once per change
                self._broken = (key, error)
                raise
            self._broken = None
        return list(self._cache[1])

    def _write(self, entries: _Entries) -> None:
        """Replace the file in one rename, readable by its owner only."""
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"version": 1, "tokens": entries}, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        self._cache = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the tokens' lock: two `token create` at once must not lose one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(".tokens.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _check_name(name: str) -> None:
    if name == SERVICE or not _NAME.match(name):
        raise ConfigError(
            f"invalid token name {name!r}",
            hint="Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit "
            f"(not {SERVICE!r}, the service's own token).",
        )


def _parse(path: Path) -> _Entries:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise TokenFileError(f"cannot read the tokens in {path}: {exc}") from exc
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, list):
        raise TokenFileError(f"{path} holds no token list")
    return [
        t
        for t in tokens
        if isinstance(t, dict)
        and t.get("scope") in SCOPES
        and isinstance(t.get("name"), str)
        and isinstance(t.get("sha256"), str)
    ]
