"""Status reads keep what they read (finding 13): a read with nothing changed touches no
database and takes no new look at the store, entries of one repo and globs share one look,
and still every change shows: this process's at the next read, another program's that
creates, removes or renames a file at the next read, an in-place edit within the look's
TTL."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

from sqlalchemy import event

from modelward.analytics import UsageData
from modelward.catalog import ModelSpec
from modelward.cli.status_lines import TABLE_MAX_ROWS, print_status_lines
from modelward.cli.where import STATUS_LIST
from modelward.devhub import DevHub
from modelward.runtime import Runtime
from modelward.status import ModelAvailabilityStatus
from modelward.store.layout import RepoLayout
from modelward.store.look import LOOK_TTL_S, RACY_NS
from tests.conftest import TI2V, TI2V_REPO


def _layout(runtime: Runtime) -> RepoLayout:
    return RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)


def _blob(hub: DevHub, runtime: Runtime) -> tuple[str, Path]:
    """The path and blob of the repo's largest file."""
    big = max(hub.manifest(TI2V_REPO).files, key=lambda f: f.size)
    return big.path, _layout(runtime).blob_path(big.etag)


async def test_a_read_with_nothing_changed_reads_no_database_and_keeps_the_look(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    await runtime.health.join_background()
    await runtime.availability.settle()
    await asyncio.sleep(2 * RACY_NS / 1e9)  # a look this close to a change is taken again
    first = await runtime.availability.statuses()
    statements: list[str] = []
    engine = runtime.downloader.db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (the statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        for _ in range(20):
            again = await runtime.availability.statuses()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert statements == []
    assert [s.availability_status for s in again] == [s.availability_status for s in first]
    kept = runtime.manager.look_known(TI2V)
    assert kept is not None and runtime.manager.look_known(TI2V) is kept


async def test_this_process_and_other_programs_changes_show_at_the_next_read(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    available = ModelAvailabilityStatus.AVAILABLE
    assert (await runtime.availability.status(TI2V)).availability_status is available
    path, blob = _blob(hub, runtime)
    commit = hub.manifest(TI2V_REPO).commit
    link = _layout(runtime).snapshot_path(commit, path)

    link.unlink()  # a person deletes a file from the snapshot (a folder below its root)
    status = await runtime.availability.status(TI2V)
    assert status.missing_files == [path] and not status.is_available

    link.symlink_to(_layout(runtime).link_target(path, blob.name))  # and puts it back
    assert (await runtime.availability.status(TI2V)).availability_status is available

    await runtime.analytics.track_model_usage(TI2V, UsageData(duration_s=2.0, success=True))
    used = await runtime.availability.status(TI2V)  # a database write of this process
    assert used.usage_frequency > 0 and used.last_used is not None


async def test_a_blob_edited_in_place_is_noticed_within_the_ttl(
    hub: DevHub, runtime: Runtime
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    assert (await runtime.availability.status(TI2V)).is_available
    path, blob = _blob(hub, runtime)
    real = Path(os.path.realpath(blob))
    real.chmod(0o644)
    with real.open("r+b") as fh:  # no folder changes: only the blob's own stat does
        fh.write(b"\x00" * 64)
    deadline = time.monotonic() + LOOK_TTL_S + 2
    while (status := await runtime.availability.status(TI2V)).is_available:
        assert time.monotonic() < deadline, "an edited blob still counts as verified"
        time.sleep(0.1)
    assert status.availability_status is ModelAvailabilityStatus.CORRUPTED
    assert status.damaged_files == [path]


async def test_entries_of_one_repo_and_globs_share_one_look(hub: DevHub, runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    entries = [ModelSpec(id=f"copy-{n}", repo=TI2V_REPO, revision="main") for n in range(300)]
    for spec in entries:
        runtime.catalog.put(spec, origin="test")
    statuses = await runtime.availability.statuses([s.id for s in entries])
    assert {s.availability_status for s in statuses} == {ModelAvailabilityStatus.AVAILABLE}
    runtime.manager.look.begin_pass()  # one read of many entries, as statuses() makes
    looks = {id(runtime.manager.look_known(s.id, checked=True)) for s in entries}
    assert len(looks) == 1


async def test_a_large_catalog_is_listed_as_aligned_lines(hub: DevHub, runtime: Runtime) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    count = TABLE_MAX_ROWS + 50
    for n in range(count):
        runtime.catalog.put(ModelSpec(id=f"copy-{n}", repo=TI2V_REPO, revision="main"), origin="t")
    ids = [f"copy-{n}" for n in range(count)]
    public = STATUS_LIST.validate_python(
        await runtime.availability.statuses(ids), from_attributes=True
    )
    out, err = io.StringIO(), io.StringIO()
    print_status_lines(public, out, err)
    header, *rows = out.getvalue().splitlines()
    assert header.split()[:3] == ["model", "status", "size"]
    assert [r.split()[:2] for r in rows[:count]] == [[m, "available"] for m in ids]
    # Each row's columns start where the header's do.
    assert all(r.index("available") == header.index("status") for r in rows[:count])
    snapshot = str(_layout(runtime).snapshot_dir(hub.manifest(TI2V_REPO).commit))
    assert rows[count:] == [f"{m}: {snapshot}" for m in ids] and err.getvalue() == ""
