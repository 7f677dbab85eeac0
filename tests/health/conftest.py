"""A real model downloaded from the local hub, for checks to find damage in."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.health import IntegrityIssue, check_structure
from modelward.runtime import Runtime
from modelward.sources import Target
from modelward.store import RepoLayout
from tests.conftest import TI2V, TI2V_REPO


@dataclass
class Model:
    """A downloaded model: its snapshot folder and each file's expected size."""

    snapshot: Path
    sizes: dict[str, int | None]
    layout: RepoLayout
    target: Target

    def blob(self, repo_path: str) -> Path:
        """The real file behind a snapshot link, made writable so a test can damage it."""
        path = Path(os.path.realpath(self.snapshot / repo_path))
        path.chmod(0o644)
        return path

    def issues(self) -> list[IntegrityIssue]:
        return check_structure(self.snapshot, self.sizes)

    def shard(self) -> str:
        """A safetensors shard that an index names."""
        index = next(p for p in self.sizes if p.endswith(".safetensors.index.json"))
        weight_map = json.loads((self.snapshot / index).read_text())["weight_map"]
        return f"{index.rpartition('/')[0]}/{sorted(set(weight_map.values()))[0]}"


@pytest.fixture
async def model(hub: DevHub, runtime: Runtime) -> Model:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    target = await runtime.downloader.source(TI2V).resolve(runtime.catalog.get(TI2V))
    layout = RepoLayout(runtime.settings.cache_dir, runtime.settings.home, TI2V_REPO)
    sizes: dict[str, int | None] = {f.path: f.size_bytes for f in target.files}
    return Model(layout.snapshot_dir(target.commit), sizes, layout, target)


@pytest.fixture(scope="session")
def big_hub_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bighub")


@pytest.fixture
async def big_hub(big_hub_root: Path) -> AsyncIterator[DevHub]:
    """TI2V alone at a scale where the largest shard spans several 16 MiB blocks."""
    server = DevHub(root=big_hub_root, scale="200MB", repos=[TI2V_REPO])
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
