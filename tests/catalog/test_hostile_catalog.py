"""Hostile catalog files: nested beyond any parser's stack, or endless; refused clearly, in
bounded memory, by the library and by the real ``modelward`` program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.catalog.loader import MAX_CATALOG_BYTES
from modelward.errors import CatalogError

DEPTH = 100_000


@pytest.mark.parametrize(
    "nested",
    [
        "[" * DEPTH + "]" * DEPTH,
        "{a = " * DEPTH + "1" + "}" * DEPTH,
    ],
    ids=["arrays", "inline-tables"],
)
def test_deep_nesting_is_a_catalog_error(tmp_path: Path, nested: str) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(f'[models.x]\nrepo = "org/x"\ncapabilities = {nested}\n')
    with pytest.raises(CatalogError, match="nested too deeply") as refused:
        load_catalog([path], env={})
    assert str(path) in refused.value.message and refused.value.hint


def test_a_file_over_the_cap_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    with path.open("w") as fh:
        fh.write('[models.x]\nrepo = "org/x"\n')
        fh.write("# padding\n" * (MAX_CATALOG_BYTES // 10 + 1))
    with pytest.raises(CatalogError, match=r"larger than 4\.00 MB"):
        load_catalog([path], env={})


def test_a_catalog_just_under_the_cap_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "padded.toml"
    entry = '[models.x]\nrepo = "org/x"\nrevision = "main"\n'
    path.write_text(entry + "#" * (MAX_CATALOG_BYTES - len(entry) - 1) + "\n")
    assert "x" in load_catalog([path], env={})


# Runs modelward in this child and writes the child's own peak RSS (VmHWM, kB) at exit: the
# rusage of a child also counts the parent's memory it was forked from.
_MEASURED = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    status = open("/proc/self/status").read().splitlines()
    open(out, "w").write(next(s.split()[1] for s in status if s.startswith("VmHWM:")))
atexit.register(peak)
sys.argv[0] = "modelward"
runpy.run_module("modelward", run_name="__main__", alter_sys=True)
"""


def _modelward(tmp_path: Path, *args: str) -> tuple[int, str, int]:
    """Run the real program; return its exit code, its stderr and its peak RSS in MB."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env.update(
        HF_HUB_CACHE=str(tmp_path / "cache"),
        MODELWARD_HOME=str(tmp_path / "home"),
        HF_ENDPOINT="http://127.0.0.1:9",  # nothing may be contacted
        COLUMNS="200",
    )
    peak = tmp_path / "peak-kb"
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, str(peak), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr, int(peak.read_text()) // 1024


def test_dev_zero_as_catalog_exits_2_in_bounded_memory(tmp_path: Path) -> None:
    code, stderr, peak_mb = _modelward(tmp_path, "status", "--catalog", "/dev/zero")
    assert code == 2, stderr
    assert "Traceback" not in stderr and "/dev/zero" in stderr and "larger than" in stderr
    assert peak_mb < 200, f"peak RSS {peak_mb} MB"  # it was 2.7 GB


def test_deeply_nested_catalog_exits_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * DEPTH + "]" * DEPTH + "\n")
    code, stderr, _ = _modelward(tmp_path, "status", "--catalog", str(path))
    assert code == 2, stderr
    assert "Traceback" not in stderr and "nested too deeply" in stderr
