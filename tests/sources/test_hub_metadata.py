"""HubSource.resolve against scripted answers (httpx.MockTransport through the client seam).

The local hub serves only honest metadata; these cases need a server that lies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from modelward.catalog import load_catalog
from modelward.errors import (
    AuthRequiredError,
    HostileMetadataError,
    ProtocolViolationError,
    RemoteNotFoundError,
    SourceUnavailableError,
)
from modelward.sources import HttpClients, HubSource

SHA = "c" * 64
COMMIT = "d" * 40


def _source(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> HubSource:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=payload, headers=headers or {})

    transport = httpx.MockTransport(handler)
    clients = HttpClients(
        metadata=httpx.AsyncClient(transport=transport), bodies=httpx.Client(transport=transport)
    )
    return HubSource(clients, "https://hub.example")


def _siblings(*names: str, size: int = 10) -> list[dict[str, Any]]:
    return [
        {"rfilename": n, "size": size, "blobId": "e" * 40, "lfs": {"sha256": SHA, "size": size}}
        for n in names
    ]


SPEC = load_catalog(env={}).get("ti2v-5b")


async def test_resolve_reads_commit_and_files() -> None:
    source = _source(
        {
            "sha": COMMIT,
            "siblings": [
                *_siblings("a.safetensors"),
                {"rfilename": "config.json", "size": 3, "blobId": "f" * 40},
            ],
        }
    )
    target = await source.resolve(SPEC)
    assert target.commit == COMMIT
    assert {f.path for f in target.files} == {"a.safetensors", "config.json"}
    assert target.file("a.safetensors").sha256 == SHA
    assert target.file("config.json").git_oid == "f" * 40


@pytest.mark.parametrize("name", ["../../x", "/abs", "a\\b", "nul\x00"])
async def test_escaping_file_names_are_refused(name: str, tmp_path: Path) -> None:
    source = _source({"sha": COMMIT, "siblings": _siblings(name)})
    with pytest.raises(HostileMetadataError):
        await source.resolve(SPEC)
    assert list(tmp_path.iterdir()) == []


async def test_absurd_size_and_duplicates_are_refused() -> None:
    with pytest.raises(HostileMetadataError, match="absurd"):
        await _source({"sha": COMMIT, "siblings": _siblings("a", size=10**16)}).resolve(SPEC)
    with pytest.raises(HostileMetadataError, match="twice"):
        await _source({"sha": COMMIT, "siblings": _siblings("a", "a")}).resolve(SPEC)


async def test_missing_commit_or_listing_is_a_protocol_violation() -> None:
    with pytest.raises(HostileMetadataError):
        await _source({"siblings": []}).resolve(SPEC)
    with pytest.raises(ProtocolViolationError):
        await _source({"sha": COMMIT}).resolve(SPEC)


async def test_http_errors_map_to_actions() -> None:
    with pytest.raises(AuthRequiredError) as auth:
        await _source({}, 401).resolve(SPEC)
    assert "HF_TOKEN" in auth.value.hint and not auth.value.retryable
    with pytest.raises(RemoteNotFoundError, match="repository not found"):
        await _source({}, 404, {"X-Error-Code": "RepoNotFound"}).resolve(SPEC)
    with pytest.raises(SourceUnavailableError) as busy:
        await _source({}, 429, {"Retry-After": "7"}).resolve(SPEC)
    assert busy.value.retryable and busy.value.retry_after_s == 7
