"""``serve()``: a hub in another process, steered over HTTP like the CLI's ``hub serve``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from modelward.devhub.serve import load_fault_plan

REPO = "Wan-AI/Wan2.2-TI2V-5B-Diffusers"
_SCRIPT = (
    "import sys; from pathlib import Path; from modelward.devhub import serve; "
    "serve(port=0, root=Path(sys.argv[1]), repos=[sys.argv[2]], faults_file=Path(sys.argv[3]))"
)


def test_serve_in_subprocess(hub_root: Path, tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"kind": "status", "status": 503, "times": 1}]))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(hub_root), REPO, str(faults)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.rsplit(" ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, timeout=5) as client:
            assert client.get(f"/api/models/{REPO}").status_code == 503
            assert client.get(f"/api/models/{REPO}").status_code == 200
            client.post("/_devhub/faults", json={"faults": [{"kind": "status", "status": 429}]})
            assert client.get(f"/api/models/{REPO}").status_code == 429
            client.delete("/_devhub/faults")
            commit = client.post(f"/_devhub/repos/{REPO}/bump").json()["commit"]
            assert client.get(f"/api/models/{REPO}").json()["sha"] == commit
            assert len(client.get("/_devhub/log").json()) == 4
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0  # SIGTERM stops the hub cleanly


def test_load_fault_plan(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(
        json.dumps(
            {
                "faults": [{"kind": "drop", "after_bytes": 5, "path_glob": "*.safetensors"}],
                "seed": 3,
            }
        )
    )
    plan = load_fault_plan(path)
    assert plan.seed == 3 and plan.faults[0].after_bytes == 5
    assert load_fault_plan(path).to_dict()["faults"][0]["kind"] == "drop"
