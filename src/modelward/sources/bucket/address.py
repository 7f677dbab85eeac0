"""Where a team mirror lives (``s3://BUCKET/PREFIX``) and where each object sits in it.

The layout under the prefix::

    PREFIX/blobs/sha256/<hex>              LFS files, content-addressed: one object per
    PREFIX/blobs/git/<git blob id>         content, shared by every model and version
    PREFIX/manifests/<org>/<name>/<commit>.json   one per published repo commit
    PREFIX/refs/<org>/<name>/<revision>           the commit a revision was published at
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from modelward.errors import ConfigError
from modelward.sources.files import is_git_oid, is_sha256


@dataclass(frozen=True, slots=True)
class MirrorAddress:
    """A bucket and a key prefix in it: one team mirror."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> MirrorAddress:
        """Read ``s3://BUCKET/PREFIX`` (the prefix may be empty), refusing anything else."""
        parts = urlsplit(url.strip())
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigError(
                f"mirror {url!r} is not an s3://BUCKET/PREFIX address",
                hint="Name the mirror as s3://BUCKET/PREFIX, e.g. s3://team-models/hf.",
            )
        return cls(parts.netloc, parts.path.strip("/"))

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, *parts: str) -> str:
        """The object key of ``parts`` under the prefix."""
        return "/".join(p for p in (self.prefix, *parts) if p)

    def blob_key(self, blob_name: str) -> str:
        """Where the content named ``blob_name`` (a sha256 or a git blob id) is kept."""
        if is_sha256(blob_name):
            return self.key("blobs", "sha256", blob_name)
        if is_git_oid(blob_name):
            return self.key("blobs", "git", blob_name)
        raise ValueError(f"not a sha256 or git blob id: {blob_name!r}")

    def blob_name_of(self, key: str) -> str | None:
        """The blob name a blob key names (None for any other key)."""
        for kind, matches in (("sha256", is_sha256), ("git", is_git_oid)):
            head = self.key("blobs", kind) + "/"
            if key.startswith(head) and matches(key[len(head) :]):
                return key[len(head) :]
        return None

    @property
    def blobs_prefix(self) -> str:
        """The key prefix every blob is under."""
        return self.key("blobs") + "/"

    @property
    def manifests_prefix(self) -> str:
        """The key prefix every manifest is under."""
        return self.key("manifests") + "/"

    def manifest_key(self, repo_id: str, commit: str) -> str:
        """Where the manifest of ``repo_id`` at ``commit`` is kept."""
        return self.key("manifests", repo_id, f"{commit}.json")

    def manifest_of(self, key: str) -> tuple[str, str] | None:
        """(repo id, commit) of a manifest key (None for any other key)."""
        head = self.manifests_prefix
        if not key.startswith(head) or not key.endswith(".json"):
            return None
        repo_id, _, commit = key[len(head) : -len(".json")].rpartition("/")
        if not repo_id or not is_git_oid(commit):
            return None
        return repo_id, commit

    def ref_key(self, repo_id: str, revision: str) -> str:
        """Where the commit ``revision`` was published at is kept (the revision quoted, so a
        branch name with a slash stays one key)."""
        return self.key("refs", repo_id, quote(revision, safe=""))

    def revision_of(self, key: str, repo_id: str) -> str | None:
        """The revision a ref key of ``repo_id`` names."""
        head = self.key("refs", repo_id) + "/"
        return unquote(key[len(head) :]) if key.startswith(head) else None
