"""ModelSpec validation and include/exclude selection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from modelward.catalog import Capabilities, ModelSpec, UrlFile

SHA = "ab" * 32


def test_minimal_entry_needs_only_id_repo_revision() -> None:
    spec = ModelSpec(id="m", repo="org/name", revision="main")
    assert spec.source == "hub"
    assert spec.capabilities == Capabilities()
    assert spec.files == () and spec.include == () and spec.exclude == ()
    assert spec.selects("anything/at/all.bin")


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("model_index.json", True),
        ("transformer/config.json", True),  # "*" crosses "/", as in huggingface_hub
        ("transformer/diffusion_pytorch_model-00001-of-00012.safetensors", True),
        ("vae/diffusion_pytorch_model.safetensors", True),
        ("assets/demo.mp4", False),  # not included
        ("README.md", False),  # excluded
        ("transformer_2/x.safetensors", False),  # whole folder excluded by trailing "/"
        ("Transformer/X.SAFETENSORS", False),  # matching is case-sensitive
    ],
)
def test_globs_select(path: str, selected: bool) -> None:
    spec = ModelSpec(
        id="m",
        repo="org/name",
        revision="main",
        include=("*.json", "*.safetensors", "*.md"),
        exclude=("README.md", "transformer_2/"),
    )
    assert spec.selects(path) is selected


def test_exclude_alone_keeps_everything_else() -> None:
    spec = ModelSpec(id="m", repo="o/n", revision="main", exclude=("*.mp4", "assets/*"))
    assert spec.selects("unet/model.safetensors")
    assert not spec.selects("demo.mp4")
    assert not spec.selects("assets/logo.png")


@pytest.mark.parametrize(
    "revision", ["main", "v1.0", "refs/pr/3", "0123456789abcdef0123456789abcdef01234567"]
)
def test_good_revisions(revision: str) -> None:
    assert ModelSpec(id="m", repo="o/n", revision=revision).revision == revision


@pytest.mark.parametrize(
    "revision", ["", "../main", "a/../b", "/main", "main/", "has space", "x.lock", "a//b"]
)
def test_bad_revisions(revision: str) -> None:
    with pytest.raises(ValidationError, match="expected a branch, tag or 40-hex commit id"):
        ModelSpec(id="m", repo="o/n", revision=revision)


@pytest.mark.parametrize("repo", ["org", "a/b/c", "org/-x", "org/a--b", "org/a..b", "/x", "o/n."])
def test_bad_repos(repo: str) -> None:
    with pytest.raises(ValidationError, match="expected a Hub repo id 'org/name'"):
        ModelSpec(id="m", repo=repo, revision="main")


@pytest.mark.parametrize("model_id", ["T2V", "-x", "a b", "a/b", ""])
def test_bad_ids(model_id: str) -> None:
    with pytest.raises(ValidationError, match="expected a short slug"):
        ModelSpec(id=model_id, repo="o/n", revision="main")


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b", "C:/x", "a\x00b", ""]
)
def test_url_file_paths_must_be_safe(path: str) -> None:
    with pytest.raises(ValidationError, match="expected a safe repo-relative path"):
        UrlFile(path=path, url="https://e.org/f", size_bytes=1, sha256=SHA)


def test_url_entry() -> None:
    file = UrlFile(path="weights/m.safetensors", url="https://e.org/m", size_bytes=9, sha256=SHA)
    spec = ModelSpec(id="m", source="url", repo="local/m", revision="v1", files=(file,))
    assert spec.files[0].size_bytes == 9


def test_url_entry_refuses_duplicate_paths() -> None:
    file = UrlFile(path="a.bin", url="https://e.org/a", size_bytes=1, sha256=SHA)
    with pytest.raises(ValidationError, match=r"path 'a\.bin' is listed twice"):
        ModelSpec(id="m", source="url", repo="l/m", revision="v1", files=(file, file))


def test_required_inputs_must_be_within_inputs() -> None:
    with pytest.raises(ValidationError, match="expected a subset of inputs"):
        Capabilities(inputs=frozenset({"text"}), required_inputs=frozenset({"image"}))


def test_accepts_needs_some_input() -> None:
    caps = Capabilities(inputs=frozenset({"text", "image"}))
    assert caps.accepts({"text"}) and not caps.accepts(set())


def test_endpoint_trailing_slash_is_dropped() -> None:
    spec = ModelSpec(id="m", repo="o/n", revision="main", endpoint="http://127.0.0.1:8080/")
    assert spec.endpoint == "http://127.0.0.1:8080"
