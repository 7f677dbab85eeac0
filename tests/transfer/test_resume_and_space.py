"""Resume records, refusal of untrustworthy partial data, and a full disk."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.devhub import DevHub, Fault, FaultPlan, RequestRecord
from modelward.errors import InsufficientSpaceError
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from modelward.store.records import PartialRecord, save_partial
from modelward.store.space import ensure_space, free_bytes
from tests.conftest import (
    TI2V,
    TI2V_REPO,
    assert_store_invariants,
    make_settings,
    over_https,
    small_disk,
)


def _biggest(hub: DevHub) -> tuple[str, int, str]:
    f = max((f for f in hub.manifest(TI2V_REPO).files if f.is_lfs), key=lambda f: f.size)
    return f.path, f.size, f.etag


def _body_gets(hub: DevHub, etag: str) -> list[RequestRecord]:
    return [r for r in hub.request_log if r.method == "GET" and etag in r.path and r.bytes_sent]


async def test_partial_file_without_a_record_is_not_trusted(hub: DevHub, runtime: Runtime) -> None:
    _path, size, etag = _biggest(hub)
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    layout.blobs_dir.mkdir(parents=True)
    # A full-size partial file with no record of what was fsynced: none of it is known good.
    layout.incomplete_path(etag).write_bytes(b"\xff" * size)
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success
    assert sum(r.bytes_sent for r in _body_gets(hub, etag)) == size
    assert_store_invariants(runtime.settings.cache_dir)


@over_https
async def test_recorded_segments_are_resumed_and_nothing_else_is_asked_for(
    hub: DevHub, runtime: Runtime
) -> None:
    path, size, etag = _biggest(hub)
    content = hub.manifest(TI2V_REPO).file(path).local_path.read_bytes()
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    layout.blobs_dir.mkdir(parents=True)
    done = ((0, 300_000), (600_000, 700_000))
    partial = bytearray(size)
    for start, end in done:
        partial[start:end] = content[start:end]
    layout.incomplete_path(etag).write_bytes(bytes(partial))
    save_partial(layout, PartialRecord(etag, size, "0" * 40, path, done=done))
    result = await runtime.downloader.download_with_retry(TI2V)
    assert result.success
    gets = _body_gets(hub, etag)
    assert sum(r.bytes_sent for r in gets) == size - 400_000
    for r in gets:
        assert r.range is not None
        first, _, last = r.range.removeprefix("bytes=").partition("-")
        asked = (int(first), int(last) + 1 if last else size)
        assert not any(asked[0] < e and s < asked[1] for s, e in done), asked
    assert_store_invariants(runtime.settings.cache_dir)


async def test_entry_selecting_no_file_is_a_catalog_error(tmp_path: Path, hub: DevHub) -> None:
    extra = tmp_path / "none.toml"
    extra.write_text(
        f'[models.none]\nrepo = "{TI2V_REPO}"\nrevision = "main"\ninclude = ["*.nothing"]\n'
    )
    catalog = load_catalog([extra], env={})
    async with Runtime(make_settings(tmp_path, hub.url), catalog) as runtime:
        result = await runtime.downloader.download_with_retry("none")
    assert not result.success and result.error_code == "catalog-invalid"
    assert "'none'" in (result.error_message or "") and "include" in (result.error_message or "")


def test_ensure_space_names_what_is_needed(tmp_path: Path) -> None:
    free = free_bytes(tmp_path / "not" / "yet")
    with pytest.raises(InsufficientSpaceError) as refused:
        ensure_space(tmp_path / "not" / "yet", free + 10**12, "ti2v-5b")
    assert refused.value.needed_bytes == free + 10**12
    # Other writers on the same disk may move the free space a little between the two looks.
    assert abs(refused.value.free_bytes - free) < 2**30
    assert " TB more" in refused.value.message and refused.value.hint  # decimal units


async def test_a_download_that_cannot_fit_is_refused_before_it_starts(
    tmp_path: Path, hub: DevHub
) -> None:
    with small_disk(tmp_path / "disk", "1m") as disk:
        settings = make_settings(tmp_path, hub.url, cache_dir=disk / "cache")
        async with Runtime(settings) as runtime:
            result = await runtime.downloader.download_with_retry(TI2V)
        assert not result.success and result.error_code == "insufficient-space"
        assert not list((disk / "cache").rglob("*.incomplete"))


async def test_disk_filling_up_mid_download_stops_cleanly(tmp_path: Path, hub: DevHub) -> None:
    total = hub.manifest(TI2V_REPO).total_size
    with small_disk(tmp_path / "disk", str(total + 2_000_000)) as disk:
        settings = make_settings(tmp_path, hub.url, cache_dir=disk / "cache")
        hub.set_faults(FaultPlan([Fault.rate(300_000)]))
        async with Runtime(settings) as runtime:
            await runtime.downloader.start_download(TI2V)
            await asyncio.sleep(0.5)
            filler = disk / "filler"
            with contextlib.suppress(OSError), filler.open("wb", buffering=0) as fh:
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
                    os.fsync(fh.fileno())
            result = await runtime.downloader.wait_for_completion(TI2V)
        assert not result.success and result.error_code == "insufficient-space"
        assert "free disk space" in (result.error_hint or "").lower()
        assert_store_invariants(disk / "cache")
