"""Pickle-format weights (``.pth``, ``.pt``, ``.bin``, ``.ckpt``) are scanned before they are
installed: loading one runs whatever its pickle imports. The scan is picklescan's (the
scanner the Hugging Face Hub itself runs), not a home-made one; safetensors need none.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from picklescan.scanner import SafetyLevel, scan_bytes

from modelward.errors import UnsafeFileError
from modelward.health.quarantine import Quarantine
from modelward.health.structural import PICKLE_SUFFIXES
from modelward.sources import RemoteFile, Target


def dangerous_imports(path: Path, repo_path: str) -> list[str]:
    """The code-executing imports picklescan finds in the file (blocking); a file it cannot
    parse counts as dangerous, since it cannot be shown to be safe."""
    suffix = PurePosixPath(repo_path).suffix
    with path.open("rb") as fh:
        result = scan_bytes(fh, repo_path, suffix)
    found = sorted(
        {f"{g.module}.{g.name}" for g in result.globals if g.safety is SafetyLevel.Dangerous}
    )
    if result.scan_err and not found:
        found = ["(the pickle could not be parsed)"]
    return found


class PickleScreen:
    """Checks a verified pickle file before it is promoted; an unsafe one goes to
    quarantine with the scanner's findings, and the download fails saying why."""

    def __init__(self, quarantine: Quarantine) -> None:
        self.quarantine = quarantine

    def __call__(self, partial: Path, target: Target, file: RemoteFile) -> None:
        """Raise UnsafeFileError (after quarantining ``partial``) when it is unsafe."""
        if not file.path.endswith(PICKLE_SUFFIXES):
            return
        found = dangerous_imports(partial, file.path)
        if not found:
            return
        reason = "pickle imports " + ", ".join(found)
        entry = self.quarantine.put(
            partial, repo_id=target.repo_id, path=file.path, blob_name=file.blob_name,
            reason=reason,
        )  # fmt: skip
        raise UnsafeFileError(
            f"{target.repo_id}/{file.path} is unsafe: its {reason}; quarantined as {entry.entry_id}"
        )
