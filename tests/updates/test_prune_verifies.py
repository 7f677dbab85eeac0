"""``update prune`` hashes the served version whole before it deletes the previous one
(finding 9): bit rot that keeps a file's size and time is caught, and nothing goes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from modelward.devhub import DevHub
from modelward.errors import PruneRefusedError
from modelward.runtime import Runtime
from modelward.updates import UpdateState
from tests.api.conftest import AUTH, StartService
from tests.conftest import TI2V, TI2V_REPO, assert_store_invariants, make_settings, sha256_of


def _rot(path: Path, offset: int) -> None:
    """Flip one byte in place, keeping the file's size and times (what bit rot looks like
    to a stat)."""
    real = Path(os.path.realpath(path))
    before = real.stat()
    real.chmod(0o644)
    with real.open("r+b") as fh:
        fh.seek(offset)
        original = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([original[0] ^ 0xFF]))
    os.utime(real, ns=(before.st_atime_ns, before.st_mtime_ns))


async def test_prune_refuses_while_the_served_version_fails_its_checksum(
    runtime: Runtime, hub: DevHub
) -> None:
    assert (await runtime.downloader.download_with_retry(TI2V)).success
    old = hub.manifest(TI2V_REPO)
    new_commit = hub.bump_commit(TI2V_REPO)
    new = hub.manifest(TI2V_REPO)
    assert (await runtime.updater.apply_update(TI2V)).success
    layout = runtime.manager.layout(TI2V)
    before = {f.path: f.content_sha256 for f in old.files}
    victim = max(
        (f for f in new.files if before.get(f.path) != f.content_sha256), key=lambda f: f.size
    )
    link = layout.snapshot_path(new_commit, victim.path)
    _rot(link, victim.size // 2)

    with pytest.raises(PruneRefusedError) as refused:
        await runtime.updater.prune_previous(TI2V)
    assert victim.path in refused.value.message and "nothing was deleted" in refused.value.message
    assert "repair" in refused.value.hint
    # The previous version is whole and still recorded as the backup.
    for f in old.files:
        assert sha256_of(layout.snapshot_path(old.commit, f.path)) == f.content_sha256
    record = runtime.updater.record(TI2V)
    assert record.previous == old.commit and record.state is UpdateState.APPLIED

    # What the hint says: repair (it fetches the damaged blocks), then prune.
    assert (await runtime.health.verify_and_repair_model(TI2V)).success
    freed = await runtime.updater.prune_previous(TI2V)
    assert freed > 0
    assert not layout.snapshot_dir(old.commit).exists()
    assert runtime.updater.record(TI2V).previous is None
    assert_store_invariants(runtime.settings.cache_dir)


async def test_the_api_answers_409_with_a_hint_and_keeps_the_backup(
    tmp_path: Path, threaded_hub: DevHub, start_service: StartService
) -> None:
    async with Runtime(make_settings(tmp_path, threaded_hub.url)) as runtime:
        assert (await runtime.downloader.download_with_retry(TI2V)).success
        old = threaded_hub.manifest(TI2V_REPO)
        new_commit = threaded_hub.bump_commit(TI2V_REPO)
        assert (await runtime.updater.apply_update(TI2V)).success
        layout = runtime.manager.layout(TI2V)
    before = {f.path: f.content_sha256 for f in old.files}
    victim = next(
        f for f in threaded_hub.manifest(TI2V_REPO).files if before.get(f.path) != f.content_sha256
    )
    _rot(layout.snapshot_path(new_commit, victim.path), 0)
    service = start_service()
    answer = service.client.delete(f"/api/v1/models/{TI2V}/versions/previous", headers=AUTH)
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["code"] == "prune-refused" and body["hint"] and not body["retryable"]
    assert victim.path in body["message"]
    assert layout.snapshot_dir(old.commit).is_dir()
    service.stop()

    # The CLI, with no service running, refuses the same way: one line and a hint.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "MODELWARD_"))}
    env |= {
        "HF_ENDPOINT": threaded_hub.url,
        "HF_HUB_CACHE": str(tmp_path / "cache"),
        "MODELWARD_HOME": str(tmp_path / "home"),
        "COLUMNS": "200",
    }
    cli = subprocess.run(
        [sys.executable, "-m", "modelward", "update", "prune", TI2V],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = cli.stdout + cli.stderr
    assert cli.returncode == 1, out
    assert "failed verification" in out and "repair" in out and "Traceback" not in out
    assert layout.snapshot_dir(old.commit).is_dir()
