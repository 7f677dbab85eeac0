"""Pickle weights are scanned before promotion: code-executing ones go to quarantine."""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from modelward.catalog import load_catalog
from modelward.runtime import Runtime
from modelward.store import RepoLayout
from tests.conftest import make_settings


class _RunsCode:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, ("echo this would run on load",)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def files_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "served"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def _catalog(tmp_path: Path, url: str, name: str, data: bytes) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[models.{name}]\nsource = "url"\nrepo = "local/{name}"\nrevision = "main"\n'
        f"[[models.{name}.files]]\n"
        f'path = "vae.pth"\nurl = "{url}/{name}.pth"\nsize_bytes = {len(data)}\n'
        f'sha256 = "{hashlib.sha256(data).hexdigest()}"\n'
    )
    return path


@pytest.mark.parametrize(
    ("name", "data", "safe"),
    [
        ("benign", pickle.dumps({"weight": [0.5, 1.5], "step": 3}), True),
        ("hostile", pickle.dumps(_RunsCode()), False),
    ],
)
async def test_a_pickle_is_promoted_only_when_it_runs_no_code(
    tmp_path: Path, files_server: tuple[str, Path], name: str, data: bytes, safe: bool
) -> None:
    url, root = files_server
    (root / f"{name}.pth").write_bytes(data)
    catalog = load_catalog([_catalog(tmp_path, url, name, data)], env={})
    async with Runtime(make_settings(tmp_path, url), catalog) as runtime:
        result = await runtime.downloader.download_with_retry(name, max_retries=1)
        entries = runtime.quarantine.entries()
    layout = RepoLayout(tmp_path / "cache", tmp_path / "home", f"local/{name}")
    blob = layout.blob_path(hashlib.sha256(data).hexdigest())
    if safe:
        assert result.success and blob.read_bytes() == data and entries == []
        return
    assert not result.success and result.error_code == "unsafe-file"
    assert result.total_retries == 0  # not something a retry could change
    assert "system" in (result.error_message or "") and "quarantine" in (result.error_hint or "")
    assert not blob.exists() and not list(layout.blobs_dir.glob("*.incomplete"))
    [entry] = entries
    assert entry.path == "vae.pth" and "system" in entry.reason
