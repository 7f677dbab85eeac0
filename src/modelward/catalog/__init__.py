"""The catalog: which models exist, where their files come from and what they can do.

``load_catalog()`` reads the built-in ``builtin.toml``, then extra files, then the
``MODELWARD_CATALOG`` paths; see docs/CATALOG.md for the format.
"""

from __future__ import annotations

from modelward.catalog.catalog import Catalog
from modelward.catalog.loader import load_catalog
from modelward.catalog.spec import Capabilities, ModelSpec, UrlFile

__all__ = ["Capabilities", "Catalog", "ModelSpec", "UrlFile", "load_catalog"]
