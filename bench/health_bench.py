"""Integrity benchmark: full verify vs openssl, quick check, structural reads, block repair.

Run ``bench/health.sh`` (or ``python -m bench.health_bench``) from the repository root;
``docs/BENCHMARKS.md`` ("Integrity") explains every figure. Unlike the download benchmark,
this driver imports modelward: the checks run in this process, where ``/proc/self/io``
shows what they read. Put a stable copy's ``src/`` first on ``PYTHONPATH`` to measure a
commit while the working tree changes.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import modelward
from bench.clients import base_env
from bench.health_hub import PROFILES, REPO_ID
from bench.health_measure import (
    LoopThread,
    Meter,
    Traffic,
    Usage,
    can_drop_page_cache,
    drop_page_cache,
    flip_bytes,
    hub_file_traffic,
    measured,
    openssl_sha256,
    read_through,
)
from bench.health_report import (
    CheckRuns,
    Damage,
    HealthResults,
    ReadShare,
    RepairRun,
    StructuralRuns,
    VerifyRun,
    render,
)
from bench.hubproc import Hub, start_hub_command
from bench.main import cpu_model, git_head
from bench.procs import Registry
from modelward.catalog import Catalog, ModelSpec
from modelward.health import VerifyLevel, check_file, check_integrity
from modelward.runtime import Runtime
from modelward.settings import Settings
from modelward.sources import RemoteFile, Target
from modelward.store.hashing import BLOCK_BYTES
from modelward.store.layout import RepoLayout

MODEL_SHARDS = "integrity-shards"
"""Every file but the VAE: 137 files, all shards of one to a few hundred MB."""
MODEL_FULL = "integrity-full"
"""Every file, the 2.4 GB single-file VAE included."""
DAMAGE_BYTES = 4096


@dataclass(frozen=True)
class Options:
    """Everything a run is configured with."""

    profile: str
    repeats: int
    check_runs: int
    workdir: Path | None
    keep: bool
    warm_only: bool
    skip_hf: bool
    json_out: Path | None
    python: str


def parse_options(argv: list[str] | None = None) -> Options:
    """The command line of ``bench/health.sh``; ``--quick`` only changes unset defaults."""
    p = argparse.ArgumentParser(
        prog="bench/health.sh",
        description="modelward's integrity checks and block repair, against openssl, "
        "re-downloads and hf_hub_download, on a local hub.",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 0.35 GB repo, 1 repetition")
    p.add_argument("--repeats", type=int, default=None, help="verify and repair runs (default 3)")
    p.add_argument(
        "--check-runs", type=int, default=None, help="quick/structural check runs (default 20)"
    )
    p.add_argument("--workdir", type=Path, default=None, help="scratch dir (default: /tmp/...)")
    p.add_argument("--keep", action="store_true", help="keep the scratch dir afterwards")
    p.add_argument(
        "--warm-only",
        action="store_true",
        help="never drop the page cache (it is machine-wide; dropping needs root)",
    )
    p.add_argument("--skip-hf", action="store_true", help="no hf_hub_download peer in 4.")
    p.add_argument("--json", type=Path, default=None, help="also write raw results here")
    ns = p.parse_args(argv)
    repeats = ns.repeats or (1 if ns.quick else 3)
    check_runs = ns.check_runs or (5 if ns.quick else 20)
    if repeats < 1 or check_runs < 1:
        raise SystemExit("--repeats and --check-runs must be at least 1")
    return Options(
        profile="quick" if ns.quick else "full",
        repeats=repeats,
        check_runs=check_runs,
        workdir=ns.workdir,
        keep=ns.keep,
        warm_only=ns.warm_only,
        skip_hf=ns.skip_hf,
        json_out=ns.json,
        python=sys.executable,
    )


def bench_catalog() -> Catalog:
    """Two models of the benchmark repo: without and with the big VAE file."""
    return Catalog(
        [
            ModelSpec(id=MODEL_SHARDS, repo=REPO_ID, revision="main", exclude=("vae/",)),
            ModelSpec(id=MODEL_FULL, repo=REPO_ID, revision="main"),
        ]
    )


def start_integrity_hub(
    registry: Registry, opts: Options, workdir: Path, env: dict[str, str]
) -> Hub:
    """Start ``bench.health_hub`` and wait (it materialises GBs first) for its ready line."""
    cmd = [opts.python, "-m", "bench.health_hub", "--root", str(workdir / "hub")]
    cmd += ["--profile", opts.profile]
    return start_hub_command(registry, cmd, env, workdir / "hub.log")


def check_space(workdir: Path, opts: Options) -> None:
    """Refuse to start when the scratch file system cannot hold the run."""
    profile = PROFILES[opts.profile]
    # Hub objects and the store each hold the repo; quarantine, the partial copy of a
    # repair and hf's copy each hold the big file for a while; 1 GB for the small files.
    need = 2 * profile.weight_bytes + 3 * profile.vae_bytes + 10**9
    free = shutil.disk_usage(workdir).free
    if free < need:
        raise SystemExit(
            f"{workdir} has {free / 1e9:.1f} GB free; the {opts.profile} run needs "
            f"{need / 1e9:.1f} GB (use --workdir elsewhere or --quick)"
        )


def sha256_matches(path: Path, sha256: str) -> bool:
    """An independent check (hashlib, not modelward) that a file holds the published bytes."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest() == sha256


@dataclass(frozen=True)
class ModelInfo:
    """A downloaded model: its target, where its blobs are, its size."""

    model_id: str
    target: Target
    layout: RepoLayout

    @property
    def blobs(self) -> list[Path]:
        """The blob of each file, in the target's order."""
        return [self.layout.blob_path(f.blob_name) for f in self.target.files]

    @property
    def files(self) -> int:
        """How many files the model has."""
        return len(self.target.files)

    @property
    def size(self) -> int:
        """Bytes of all its files."""
        return self.target.size_bytes


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class IntegrityBench:
    """The four sections, run against one runtime on one store."""

    def __init__(
        self,
        opts: Options,
        hub: Hub,
        loop: LoopThread,
        runtime: Runtime,
        workdir: Path,
        env: dict[str, str],
        res: HealthResults,
    ) -> None:
        self.opts, self.hub, self.loop, self.rt = opts, hub, loop, runtime
        self.workdir, self.env, self.res = workdir, env, res
        self.caches = ["warm"] if opts.warm_only or not can_drop_page_cache() else ["cold", "warm"]
        self.models: dict[str, ModelInfo] = {}

    def meter(self) -> Meter:
        """A meter that also watches the hub's CPU."""
        return Meter(self.hub.proc.pid)

    def setup(self) -> None:
        """Pull the whole repo once; every section works on this store."""
        with self.meter() as m:
            result = self.loop.run(self.rt.downloader.download_with_retry(MODEL_FULL))
        if not result.success:
            raise SystemExit(f"setup pull failed: {result.error_message} ({result.error_hint})")
        took = measured(m).wall_s
        self.res.environment["setup"] = (
            f"modelward pulled {MODEL_FULL} ({self.hub.repo_size:,} bytes) in {took:.1f} s"
        )
        for model_id in (MODEL_SHARDS, MODEL_FULL):
            target = self.rt.manager.known_target(model_id)
            assert target is not None, model_id
            layout = self.rt.manager.repo_layout(target.repo_id)
            self.models[model_id] = ModelInfo(model_id, target, layout)
            self.res.models[model_id] = (len(target.files), target.size_bytes)

    def prepare_cache(self, cache: str, paths: list[Path]) -> None:
        """Cold: drop the page cache; warm: read every file once, so both tools start alike."""
        if cache == "cold":
            drop_page_cache()
        else:
            read_through(paths)

    # 1. Full verify -------------------------------------------------------------------

    def verify(self) -> None:
        """modelward's full check and openssl over the same blobs, interleaved."""
        for model_id in (MODEL_SHARDS, MODEL_FULL):
            info = self.models[model_id]
            for rep in range(self.opts.repeats):
                for cache in self.caches:
                    for tool in ("modelward", "openssl"):
                        self.prepare_cache(cache, info.blobs)
                        run = (
                            self._verify_modelward(info, cache)
                            if tool == "modelward"
                            else self._verify_openssl(info, cache)
                        )
                        self.res.verify.append(run)
                        _log(f"[1] {model_id} {cache} {tool} run {rep + 1}: {run.wall_s:.2f} s")

    def _verify_modelward(self, info: ModelInfo, cache: str) -> VerifyRun:
        with self.meter() as m:
            result = self.loop.run(
                self.rt.health.check_model_integrity(info.model_id, VerifyLevel.FULL)
            )
        ok = result.is_healthy and result.bytes_hashed == info.size
        note = "" if ok else f"healthy={result.is_healthy}, hashed {result.bytes_hashed:,}"
        return self._verify_run(info, cache, "modelward", measured(m), ok, note)

    def _verify_openssl(self, info: ModelInfo, cache: str) -> VerifyRun:
        usage, digests = openssl_sha256(info.blobs, self.hub.proc.pid)
        # LFS blobs are named by their sha256: openssl must agree (the rest by git blob id).
        lfs = [b for b in info.blobs if len(b.name) == 64]
        wrong = [b.name[:12] for b in lfs if digests.get(str(b)) != b.name]
        ok = len(digests) == len(info.blobs) and not wrong
        note = "" if ok else f"{len(digests)} digests, mismatches {wrong[:3]}"
        return self._verify_run(info, cache, "openssl", usage, ok, note)

    @staticmethod
    def _verify_run(
        info: ModelInfo, cache: str, tool: str, u: Usage, ok: bool, note: str
    ) -> VerifyRun:
        return VerifyRun(
            model=info.model_id,
            files=info.files,
            size=info.size,
            cache=cache,
            tool=tool,
            wall_s=u.wall_s,
            cpu_s=u.cpu_s,
            others_cpu_s=u.others_cpu_s,
            ok=ok,
            note=note,
        )

    # 2. Quick check -------------------------------------------------------------------

    def quick(self) -> None:
        """Repeated quick checks; the cold one right after dropping the page cache."""
        for model_id in (MODEL_SHARDS, MODEL_FULL):
            info = self.models[model_id]
            for cache in reversed(self.caches):  # warm first: the cold drop is the last
                self.res.quick.append(self._quick_runtime(info, cache))
                if cache == "warm":
                    self.res.quick.append(self._quick_direct(info))
                _log(f"[2] {model_id} {cache}: {self.res.quick[-1].wall_ms[:3]} ms ...")

    def _quick_runtime(self, info: ModelInfo, cache: str) -> CheckRuns:
        runs, healthy = [], True
        for _ in range(self.opts.check_runs if cache == "warm" else 1):
            if cache == "cold":
                drop_page_cache()
            t0 = time.perf_counter()
            result = self.loop.run(
                self.rt.health.check_model_integrity(info.model_id, VerifyLevel.QUICK)
            )
            runs.append((time.perf_counter() - t0) * 1000)
            healthy = healthy and result.is_healthy and result.files_checked == info.files
        call = "runtime.health.check_model_integrity"
        return CheckRuns(info.model_id, info.files, call, cache, tuple(runs), healthy)

    def _quick_direct(self, info: ModelInfo) -> CheckRuns:
        # The bare checker with the target already in memory: the part a service that
        # keeps targets loaded would pay per request.
        runs, healthy = [], True
        for _ in range(self.opts.check_runs):
            t0 = time.perf_counter()
            result = check_integrity(info.model_id, info.layout, info.target, VerifyLevel.QUICK)
            runs.append((time.perf_counter() - t0) * 1000)
            healthy = healthy and result.is_healthy
        call = "check_integrity (target in memory)"
        return CheckRuns(info.model_id, info.files, call, "warm", tuple(runs), healthy)

    # 3. Structural check --------------------------------------------------------------

    def structural(self) -> None:
        """Bytes read and time of the structural check of the multi-GB model."""
        info = self.models[MODEL_FULL]
        for cache in reversed(self.caches):
            wall, rchar, disk, healthy = [], [], [], True
            for _ in range(self.opts.check_runs if cache == "warm" else 1):
                if cache == "cold":
                    drop_page_cache()
                with self.meter() as m:
                    result = self.loop.run(
                        self.rt.health.check_model_integrity(MODEL_FULL, VerifyLevel.STRUCTURAL)
                    )
                u = measured(m)
                wall.append(u.wall_s * 1000)
                rchar.append(u.rchar)
                disk.append(u.read_bytes)
                healthy = healthy and result.is_healthy
            self.res.structural.append(
                StructuralRuns(
                    model=MODEL_FULL,
                    files=info.files,
                    size=info.size,
                    cache=cache,
                    wall_ms=tuple(wall),
                    rchar=tuple(rchar),
                    read_bytes=tuple(disk),
                    healthy=healthy,
                )
            )
            _log(f"[3] {cache}: {rchar[0]:,} bytes read, {wall[0]:.1f} ms")
        self.res.shares = self._read_shares(info)

    def _read_shares(self, info: ModelInfo) -> list[ReadShare]:
        """``check_file`` on each file alone, its reads grouped by kind of file."""
        snapshot = info.layout.snapshot_dir(info.target.commit)
        groups: dict[str, list[tuple[RemoteFile, Usage]]] = defaultdict(list)
        for f in info.target.files:
            with Meter() as m:
                check_file(snapshot / f.path, f.path, f.size_bytes)
            groups[_kind(f.path)].append((f, measured(m)))
        return [
            ReadShare(
                kind=kind,
                files=len(items),
                file_bytes=sum(f.size_bytes for f, _ in items),
                rchar=sum(u.rchar for _, u in items),
                wall_ms=sum(u.wall_s for _, u in items) * 1000,
            )
            for kind, items in sorted(groups.items())
        ]

    # 4. Repair ------------------------------------------------------------------------

    def repair(self) -> None:
        """Damage 4 KiB mid-file; repair; delete and re-pull; hf_hub_download; repeat."""
        info = self.models[MODEL_FULL]
        big = max(info.target.files, key=lambda f: f.size_bytes)
        blob = info.layout.blob_path(big.blob_name)
        offset = big.size_bytes // 2
        for rep in range(self.opts.repeats):
            # Every round starts from a warm page cache (section 3 may just have dropped it).
            read_through(info.blobs)
            flip_bytes(blob, offset, DAMAGE_BYTES)
            self.res.repair.append(self._find_damage(big))
            run, plan = self._repair_once(big, blob)
            self.res.repair.append(run)
            self.res.damage = Damage(
                big.path, big.size_bytes, offset, DAMAGE_BYTES, BLOCK_BYTES, plan
            )
            self.res.repair.append(self._repull(info, big, blob))
            if not self.opts.skip_hf:
                self.res.repair.append(self._hf_download(big))
            done = ", ".join(f"{r.wall_s:.2f}" for r in self.res.repair[-4:])
            _log(f"[4] run {rep + 1}: {done} s")

    def _find_damage(self, big: RemoteFile) -> RepairRun:
        with self.meter() as m:
            check = self.loop.run(
                self.rt.health.check_model_integrity(MODEL_FULL, VerifyLevel.FULL)
            )
        u = measured(m)
        found = [i for i in check.issues if i.path == big.path and i.kind == "checksum-mismatch"]
        return RepairRun(
            method="modelward check FULL (finds the damage)",
            does="sha256 of every file of the model",
            wall_s=u.wall_s,
            cpu_s=u.cpu_s,
            hub_cpu_s=u.hub_cpu_s,
            hub_bytes=0,
            hub_requests=0,
            own_bytes=None,
            ok=bool(found) and len(check.issues) == 1,
            note="" if found else f"found {list(map(str, check.issues))}",
        )

    def _repair_once(
        self, big: RemoteFile, blob: Path
    ) -> tuple[RepairRun, tuple[tuple[int, int], ...]]:
        self.hub.clear_log()
        with self.meter() as m:
            result = self.loop.run(self.rt.health.verify_and_repair_model(MODEL_FULL))
        u = measured(m)
        traffic = hub_file_traffic(self.hub.url)
        assert big.sha256 is not None
        ok = result.success and sha256_matches(blob, big.sha256)
        plan = result.plans[0].damaged_ranges if result.plans else ()
        # The damaged copy went to quarantine: give its room back before the next step.
        self.rt.health.quarantine.purge()
        run = _modelward_run(
            "modelward verify_and_repair_model",
            "full check, quarantine, block digests, fetch damaged blocks, sha256 of the file",
            u,
            traffic,
            result.bytes_fetched,
            ok,
            result.error_message,
        )
        return run, plan

    def _repull(self, info: ModelInfo, big: RemoteFile, blob: Path) -> RepairRun:
        # What a user does without block repair: delete the damaged file, pull again. The
        # snapshot link goes too, or modelward would only relink a blob it still trusts.
        blob.unlink()
        info.layout.snapshot_path(info.target.commit, big.path).unlink()
        self.hub.clear_log()
        with self.meter() as m:
            result = self.loop.run(self.rt.downloader.download_with_retry(MODEL_FULL))
        u = measured(m)
        traffic = hub_file_traffic(self.hub.url)
        assert big.sha256 is not None
        ok = result.success and sha256_matches(blob, big.sha256)
        return _modelward_run(
            "modelward pull (damaged file deleted)",
            "resolve, stat the other files, fetch and sha256 the file (8 connections)",
            u,
            traffic,
            result.bytes_fetched,
            ok,
            result.error_message,
        )

    def _hf_download(self, big: RemoteFile) -> RepairRun:
        cache = self.workdir / "hf-cache"
        shutil.rmtree(cache, ignore_errors=True)
        cmd = [self.opts.python, "-m", "bench.hf_file", "--endpoint", self.hub.url]
        cmd += ["--cache-dir", str(cache), "--repo", REPO_ID, "--file", big.path]
        self.hub.clear_log()
        with self.meter() as m:
            out = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=1800)
        u = measured(m)
        traffic = hub_file_traffic(self.hub.url)
        ok, note, call_s, call_cpu = False, f"exit {out.returncode}", u.wall_s, u.cpu_s
        if out.returncode == 0:
            info = json.loads(out.stdout.strip().splitlines()[-1])
            assert big.sha256 is not None
            ok = sha256_matches(Path(info["path"]), big.sha256)
            call_s, call_cpu = float(info["seconds"]), float(info["cpu_s"])
            note = f"process {u.wall_s:.2f} s with interpreter start" if ok else "wrong bytes"
        else:
            _log(out.stderr[-2000:])
        shutil.rmtree(cache, ignore_errors=True)
        return RepairRun(
            method="huggingface_hub hf_hub_download (empty cache)",
            does="fetch the file (1 connection), size check",
            wall_s=call_s,
            cpu_s=call_cpu,
            hub_cpu_s=u.hub_cpu_s,
            hub_bytes=traffic.bytes_sent,
            hub_requests=traffic.requests,
            own_bytes=None,
            ok=ok,
            note=note,
        )


def _modelward_run(
    method: str,
    does: str,
    usage: Usage,
    traffic: Traffic,
    own_bytes: int,
    ok: bool,
    error: str | None,
) -> RepairRun:
    """One measured modelward run of section 4."""
    return RepairRun(
        method=method,
        does=does,
        wall_s=usage.wall_s,
        cpu_s=usage.cpu_s,
        hub_cpu_s=usage.hub_cpu_s,
        hub_bytes=traffic.bytes_sent,
        hub_requests=traffic.requests,
        own_bytes=own_bytes,
        ok=ok,
        note="" if ok else f"{error}",
    )


def _kind(path: str) -> str:
    if path.endswith("tokenizer.json"):
        return "tokenizer.json"
    if path.endswith(".safetensors.index.json"):
        return "*.safetensors.index.json"
    if path.endswith(".json"):
        return "other *.json"
    if path.endswith(".safetensors"):
        return "*.safetensors"
    return "other files"


def environment(opts: Options, caches: list[str]) -> dict[str, str]:
    """What the numbers were measured on."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    override = os.environ.get("PYTHONPATH", "")
    hf = subprocess.run(
        [opts.python, "-c", "import huggingface_hub; print(huggingface_hub.__version__)"],
        capture_output=True,
        text=True,
    )
    if "cold" in caches:
        cache = "cold runs: sync + drop_caches (3) before each; warm runs: every file read once"
    else:
        why = "--warm-only" if opts.warm_only else "not root, cannot drop the page cache"
        cache = f"warm only ({why}): every file read once before each timed run"
    return {
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {mem / 2**30:.0f} GiB RAM",
        "os": platform.platform(),
        "python": platform.python_version(),
        "checkout": git_head(),
        "modelward imported from": os.path.dirname(modelward.__file__)
        + (f" (PYTHONPATH={override})" if override else ""),
        "openssl": _openssl_version(),
        "huggingface_hub": hf.stdout.strip() or "?",
        "command": "bench/health.sh " + " ".join(sys.argv[1:]),
        "profile": opts.profile,
        "page cache": cache,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _openssl_version() -> str:
    out = subprocess.run(["openssl", "version"], capture_output=True, text=True, timeout=30)
    return out.stdout.strip() or "?"


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


async def _open_runtime(settings: Settings) -> Runtime:
    # Built on the loop's thread, so anything it binds to a loop binds to that one.
    return Runtime(settings, bench_catalog())


def run_sections(bench: IntegrityBench) -> None:
    """Set up the store, then sections 1-4 in order."""
    bench.setup()
    bench.verify()
    bench.quick()
    bench.structural()
    bench.repair()


def main(argv: list[str] | None = None) -> int:
    """Run the integrity benchmark; print the markdown report on stdout."""
    opts = parse_options(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    if shutil.which("openssl") is None:
        raise SystemExit("openssl is not on PATH (apt-get install openssl)")
    created = opts.workdir is None
    workdir = opts.workdir or Path(tempfile.mkdtemp(prefix="modelward-health-", dir="/tmp"))
    workdir.mkdir(parents=True, exist_ok=True)
    registry = Registry()
    started = time.monotonic()
    try:
        check_space(workdir, opts)
        env = base_env(workdir)
        _log(f"materialising the {opts.profile} repo under {workdir}/hub ...")
        hub = start_integrity_hub(registry, opts, workdir, env)
        Meter.calibrate()
        settings = Settings(
            cache_dir=workdir / "store" / "cache",
            home=workdir / "store" / "home",
            endpoint=hub.url,
        )
        with LoopThread() as loop:
            runtime = loop.run(_open_runtime(settings))
            try:
                bench = IntegrityBench(
                    opts, hub, loop, runtime, workdir, env, HealthResults({}, {})
                )
                bench.res.environment = environment(opts, bench.caches)
                run_sections(bench)
            finally:
                loop.run(runtime.aclose())
        hub.close()
        res = bench.res
        res.environment["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
        res.environment["benchmark wall time"] = f"{time.monotonic() - started:.0f} s"
        print(render(res))
        if opts.json_out is not None:
            opts.json_out.write_text(json.dumps(dataclasses.asdict(res), indent=2))
        return 0
    finally:
        registry.stop_all()
        if opts.keep:
            _log(f"kept {workdir}")
        elif created:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            for name in ("hub", "store", "hf-cache", "hf-home", "modelward-home", "hub.log"):
                target = workdir / name
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)


if __name__ == "__main__":
    raise SystemExit(main())
