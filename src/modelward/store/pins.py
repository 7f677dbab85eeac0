"""Models a person chose to keep locally: cleanup never removes them.

One small JSON file under ``MODELWARD_HOME/records``, written atomically.
"""

from __future__ import annotations

import threading
from pathlib import Path

from modelward.store.records import read_json, write_json_atomic

_lock = threading.Lock()


class PinStore:
    """Pinned model ids (blocking file access; small)."""

    def __init__(self, home: Path) -> None:
        self._path = home / "records" / "pins.json"

    def pinned(self) -> frozenset[str]:
        """Every pinned model id."""
        data = read_json(self._path)
        if not isinstance(data, list):
            return frozenset()
        return frozenset(str(m) for m in data)

    def is_pinned(self, model_id: str) -> bool:
        """True when ``model_id`` is pinned."""
        return model_id in self.pinned()

    def pin(self, model_id: str) -> bool:
        """Pin ``model_id``; False when it already was."""
        return self._change(model_id, keep=True)

    def unpin(self, model_id: str) -> bool:
        """Unpin ``model_id``; False when it was not pinned."""
        return self._change(model_id, keep=False)

    def _change(self, model_id: str, *, keep: bool) -> bool:
        with _lock:
            pins = set(self.pinned())
            if (model_id in pins) == keep:
                return False
            if keep:
                pins.add(model_id)
            else:
                pins.discard(model_id)
            write_json_atomic(self._path, sorted(pins))
            return True
