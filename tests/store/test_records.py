"""Resume records: which ranges of a partial file are trusted after a kill or a restart."""

from __future__ import annotations

from pathlib import Path

from modelward.store import RepoLayout
from modelward.store.records import (
    PartialRecord,
    current_boot_id,
    load_partial,
    save_partial,
    save_written,
)

BLOB = "a" * 64


def _layout(tmp_path: Path) -> RepoLayout:
    return RepoLayout(tmp_path / "cache", tmp_path / "home", "org/repo")


def test_page_cache_ranges_are_trusted_until_the_machine_restarts(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    save_partial(layout, PartialRecord(BLOB, 100, "c" * 40, "w.bin", done=((0, 10),)))
    save_written(layout, BLOB, ((0, 60),))
    loaded = load_partial(layout, BLOB)
    assert loaded is not None
    # Same boot: a killed process left its writes in the page cache.
    expected = ((0, 60),) if current_boot_id() else ((0, 10),)
    assert loaded.trusted_ranges() == expected
    # Another boot (a power cut): only what was fsynced counts.
    layout.partial_live_path(BLOB).write_text('{"written": [[0, 60]], "boot_id": "other"}')
    loaded = load_partial(layout, BLOB)
    assert loaded is not None and loaded.trusted_ranges() == ((0, 10),)


def test_a_live_record_torn_by_a_power_cut_leaves_the_fsynced_one(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    save_partial(layout, PartialRecord(BLOB, 100, "c" * 40, "w.bin", done=((0, 10),)))
    layout.partial_live_path(BLOB).write_text("")
    loaded = load_partial(layout, BLOB)
    assert loaded is not None and loaded.trusted_ranges() == ((0, 10),)


def test_a_record_from_before_written_ranges_still_loads(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    path = layout.partial_record_path(BLOB)
    path.parent.mkdir(parents=True)
    path.write_text(
        f'{{"blob_name": "{BLOB}", "size_bytes": 100, "commit": "{"c" * 40}", '
        '"path": "w.bin", "done": [[0, 30]]}'
    )
    loaded = load_partial(layout, BLOB)
    assert loaded is not None and loaded.trusted_ranges() == ((0, 30),)


def test_a_garbled_record_is_ignored(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    path = layout.partial_record_path(BLOB)
    path.parent.mkdir(parents=True)
    path.write_text('{"blob_name": "x", "done": "nonsense"}')
    assert load_partial(layout, BLOB) is None


def test_the_newer_of_the_two_records_wins_whichever_it_is(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    save_written(layout, BLOB, ((0, 30), (50, 60)))
    save_partial(layout, PartialRecord(BLOB, 100, "c" * 40, "w.bin", done=((0, 40),)))
    loaded = load_partial(layout, BLOB)
    assert loaded is not None
    expected = ((0, 40), (50, 60)) if current_boot_id() else ((0, 40),)
    assert loaded.trusted_ranges() == expected
