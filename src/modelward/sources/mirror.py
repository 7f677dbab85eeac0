"""Team mirrors in front of the Hub: each file from the first mirror holding it, else from
the Hub; the Hub's metadata, or a mirror's manifest when the Hub cannot be asked.

Trust stays with the Hub: a mirror's bytes are verified against the sha256 (or git blob
id) the Hub's metadata states, by the same prefix hashing as every download; its
manifest is believed only when the Hub is unreachable or offline mode is on, and the
download then says so. A mirror copy whose size is wrong, or whose bytes did not match,
is refused for the rest of the job and reported (``BadCopy``); the Hub serves the file.
Mirror bytes go through the same engine as the Hub's: the blob's presigned URL is read
with ranged GETs over the kept connections, so segments, pause, caps, priorities and
resume work unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelward.catalog import ModelSpec
from modelward.errors import (
    MirrorError,
    ModelwardError,
    OfflineError,
    RateLimitedError,
    SourceError,
    SourceUnavailableError,
)
from modelward.sources.bucket import MirrorBucket
from modelward.sources.files import RemoteFile, Target, is_git_oid
from modelward.sources.http import HttpClients
from modelward.sources.ranged import ByteStream, is_html_file, open_range

if TYPE_CHECKING:
    from modelward.sources import Source

logger = logging.getLogger(__name__)

HUB = "the Hub"


def not_the_hub(metadata_from: object) -> str | None:
    """Where metadata came from, when it was not the Hub (None: the Hub, or not known)."""
    return None if metadata_from in (None, HUB) else str(metadata_from)


@dataclass(frozen=True, slots=True)
class BadCopy:
    """A mirror object that does not hold what the Hub says the file is."""

    mirror: str
    path: str
    blob_name: str
    reason: str


class MirroredSource:
    """A source that reads files from team mirrors first, then from the source behind them
    (``inner``: the Hub; None when offline mode forbids asking it)."""

    def __init__(
        self,
        inner: Source | None,
        mirrors: Sequence[MirrorBucket],
        clients: HttpClients,
        *,
        on_bad_copy: Callable[[BadCopy], None] | None = None,
    ) -> None:
        self.inner = inner
        self.mirrors = tuple(mirrors)
        self._clients = clients
        self.on_bad_copy = on_bad_copy
        self.manifest_fallback = False
        """Whether a resolve the Hub cannot answer is answered from a mirror's manifest: for
        a download only (an update check must not take a mirror's ref for the newest)."""
        self.metadata_from = HUB
        """Where the files and checksums of the last resolve came from, in words."""
        self._lock = threading.Lock()
        self._holders: dict[str, MirrorBucket | None] = {}
        self._refused: set[tuple[str, str]] = set()
        self._served_by: dict[str, MirrorBucket] = {}
        self._hub_only: set[str] = set()
        self._uncertain: set[str] = set()
        self._stumbled: set[str] = set()
        """Blobs a mirror could not be asked about (not the same as not holding them)."""

    async def resolve(self, spec: ModelSpec) -> Target:
        """The Hub's answer for ``spec``; a mirror's manifest when the Hub cannot be asked."""
        if self.inner is None:
            return await self._from_manifest(spec, OfflineError("offline (HF_HUB_OFFLINE=1)"))
        try:
            target = await self.inner.resolve(spec)
        except RateLimitedError:
            raise  # the Hub answers, only later: wait for it
        except (SourceUnavailableError, OfflineError) as hub_error:
            if not self.manifest_fallback:
                raise
            return await self._from_manifest(spec, hub_error)
        self.metadata_from = HUB
        return target

    async def _from_manifest(self, spec: ModelSpec, hub_error: ModelwardError) -> Target:
        target = await asyncio.to_thread(self._manifest_target, spec, hub_error)
        if target is None:
            raise hub_error
        return target

    def _manifest_target(self, spec: ModelSpec, hub_error: ModelwardError) -> Target | None:
        for mirror in self.mirrors:
            try:
                target = _published_target(mirror, spec)
            except MirrorError as exc:
                logger.warning("cannot read the manifest of %s in %s: %s", spec.id, mirror, exc)
                continue
            if target is not None:
                why = "offline mode" if isinstance(hub_error, OfflineError) else "unreachable"
                self.metadata_from = f"the mirror {mirror} (the Hub: {why})"
                logger.info("%s: files and checksums from %s", spec.id, self.metadata_from)
                return target
        return None

    @contextmanager
    def open_file(
        self, target: Target, file: RemoteFile, *, start: int = 0, end: int | None = None
    ) -> Iterator[ByteStream]:
        """Open ``file``'s bytes from a mirror holding it whole, else from the Hub."""
        with contextlib.ExitStack() as stack:
            stream = self._open_from_mirror(stack, file, start, end)
            if stream is None:
                stream = stack.enter_context(self._open_inner(target, file, start, end))
            yield stream

    def _open_from_mirror(
        self, stack: contextlib.ExitStack, file: RemoteFile, start: int, end: int | None
    ) -> ByteStream | None:
        mirror = self.holder(file)
        if mirror is None:
            return None
        what = f"{mirror}/{file.path}"
        try:
            stream = stack.enter_context(
                open_range(
                    self._clients,
                    mirror.blob_url(file.blob_name),
                    headers={},
                    start=start,
                    end=end,
                    what=what,
                    html_expected=is_html_file(file.path),
                )
            )
        except (SourceError, MirrorError) as exc:
            if exc.retryable and self._once_more(file):
                raise  # a busy store: the retry asks it again, once, before the Hub
            # Gone, refused or down: this file comes from the Hub for this job.
            logger.warning("cannot read %s (%s); fetching it from the Hub", what, exc)
            self._forget(mirror, file)
            return None
        with self._lock:
            self._served_by[file.blob_name] = mirror
        return stream

    def _open_inner(
        self, target: Target, file: RemoteFile, start: int, end: int | None
    ) -> AbstractContextManager[ByteStream]:
        if self.inner is None:
            raise OfflineError(
                f"offline (HF_HUB_OFFLINE=1) and no mirror holds {target.repo_id}/{file.path}"
            )
        return self.inner.open_file(target, file, start=start, end=end)

    def holder(self, file: RemoteFile) -> MirrorBucket | None:
        """The first mirror holding ``file`` whole (looked up once per blob; blocking)."""
        blob = file.blob_name
        with self._lock:
            if blob in self._hub_only:
                return None
            if blob in self._holders:
                return self._holders[blob]
        found = self._look_up(file)
        with self._lock:
            self._holders[blob] = found
        return found

    def _look_up(self, file: RemoteFile) -> MirrorBucket | None:
        for mirror in self.mirrors:
            if (str(mirror), file.blob_name) in self._refused:
                continue
            try:
                size = mirror.blob_size(file.blob_name)
            except MirrorError as exc:
                logger.warning("cannot look %s up in %s: %s", file.path, mirror, exc)
                with self._lock:
                    self._uncertain.add(file.blob_name)
                continue
            if size == file.size_bytes:
                return mirror
            if size is not None:
                self._report(mirror, file, f"{size} bytes, not the {file.size_bytes} expected")
        return None

    def _once_more(self, file: RemoteFile) -> bool:
        """Whether a passing failure to read ``file`` from its mirror is the first."""
        with self._lock:
            first = file.blob_name not in self._stumbled
            self._stumbled.add(file.blob_name)
        return first and self.inner is not None

    def known_absent(self, file: RemoteFile) -> bool:
        """Whether every mirror answered that it lacks ``file`` (none failed to answer)."""
        with self._lock:
            return file.blob_name not in self._uncertain

    def served_by(self, file: RemoteFile) -> MirrorBucket | None:
        """The mirror that served bytes of ``file`` since it was last refused."""
        with self._lock:
            return self._served_by.get(file.blob_name)

    def refuse(self, file: RemoteFile, reason: str) -> None:
        """The bytes ``file`` got from its mirror did not verify: never read that copy again
        in this job (the next mirror or the Hub serves it), and report it."""
        with self._lock:
            mirror = self._served_by.pop(file.blob_name, None)
        if mirror is not None:
            self._forget(mirror, file)
            self._report(mirror, file, reason)

    def hub_only(self, file: RemoteFile) -> None:
        """Fetch ``file`` from the Hub whatever the mirrors hold (a lease's leader)."""
        with self._lock:
            self._hub_only.add(file.blob_name)

    def look_again(self, file: RemoteFile) -> None:
        """Forget what was found of ``file`` in the mirrors (another node published it)."""
        with self._lock:
            self._holders.pop(file.blob_name, None)
            self._hub_only.discard(file.blob_name)
            self._uncertain.discard(file.blob_name)

    def _forget(self, mirror: MirrorBucket, file: RemoteFile) -> None:
        with self._lock:
            self._refused.add((str(mirror), file.blob_name))
            self._holders.pop(file.blob_name, None)

    def _report(self, mirror: MirrorBucket, file: RemoteFile, reason: str) -> None:
        with self._lock:
            self._refused.add((str(mirror), file.blob_name))
        bad = BadCopy(str(mirror), file.path, file.blob_name, reason)
        logger.warning("refused %s's copy of %s: %s", bad.mirror, bad.path, reason)
        if self.on_bad_copy is not None:
            self.on_bad_copy(bad)


def _published_target(mirror: MirrorBucket, spec: ModelSpec) -> Target | None:
    """``spec`` as ``mirror`` published it (its selection applied), or None."""
    commit = spec.revision if is_git_oid(spec.revision) else None
    commit = commit or mirror.read_ref(spec.repo, spec.revision)
    if commit is None:
        return None
    manifest = mirror.read_manifest(spec.repo, commit)
    if manifest is None:
        return None
    whole = manifest.target(spec.id, spec.revision)
    selected = tuple(f for f in whole.listing if spec.selects(f.path))
    return dataclasses.replace(whole, files=selected)
