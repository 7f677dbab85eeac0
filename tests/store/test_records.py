"""Resume records: which ranges of a partial file are trusted after a kill or a restart."""

from __future__ import annotations

from pathlib import Path

from modelward.store import RepoLayout
from modelward.store.records import (
    PartialRecord,
    current_boot_id,
    load_partial,
    save_partial,
)

BLOB = "a" * 64


def _layout(tmp_path: Path) -> RepoLayout:
    return RepoLayout(tmp_path / "cache", tmp_path / "home", "org/repo")


def test_page_cache_ranges_are_trusted_until_the_machine_restarts(tmp_path: Path) -> None:
    layout = _layout(tmp_path)
    record = PartialRecord(
        BLOB, 100, "c" * 40, "w.bin", done=((0, 10),), written=((0, 60),), boot_id=current_boot_id()
    )
    save_partial(layout, record, durable=False)
    loaded = load_partial(layout, BLOB)
    assert loaded is not None
    # Same boot: a killed process left its writes in the page cache.
    expected = ((0, 60),) if current_boot_id() else ((0, 10),)
    assert loaded.trusted_ranges() == expected
    # Another boot (a power cut): only what was fsynced counts.
    rebooted = PartialRecord(BLOB, 100, "c" * 40, "w.bin", ((0, 10),), ((0, 60),), "other-boot")
    assert rebooted.trusted_ranges() == ((0, 10),)


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
