"""Print the service's OpenAPI document: ``python -m modelward.api.openapi > web/openapi.json``.

The dashboard's typed client is generated from that file, and a test keeps it equal to
what the service says, so the two never drift apart.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from modelward.api.app import create_app
from modelward.settings import Settings


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the service (built without touching any real store)."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        app = create_app(Settings(cache_dir=root / "cache", home=root / "home", api_token="-"))
        document: dict[str, Any] = app.openapi()
    return document


def main() -> None:
    """Write the document to stdout, sorted, so diffs stay small."""
    sys.stdout.write(json.dumps(openapi_document(), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
