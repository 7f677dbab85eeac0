"""A local Hugging Face Hub: synthetic Wan2.2-shaped repos, fault injection, request log.

Tests, benchmarks and the demo point clients (ours and ``huggingface_hub``) at it::

    async with DevHub(root=tmp, scale="tiny") as hub:
        hub.set_faults([Fault.drop(after_bytes=300_000, path_glob="*.safetensors", times=1)])
        ...  # download from hub.url

Modules: ``shapes`` (what repos contain), ``materialise`` (writing them once), ``routes``
(the Hub protocol), ``faults`` + ``body`` (what goes wrong on the wire), ``control``
(``/_devhub`` API), ``server`` (``DevHub``), ``serve`` (foreground entry point).
"""

from modelward.devhub.faults import Fault, FaultPlan
from modelward.devhub.log import RequestRecord
from modelward.devhub.manifest import ManifestFile, RepoManifest
from modelward.devhub.manners import Manners
from modelward.devhub.serve import serve
from modelward.devhub.server import DevHub, default_root
from modelward.devhub.shapes import WAN_REPOS, RepoShape
from modelward.devhub.sizes import parse_size

__all__ = [
    "WAN_REPOS",
    "DevHub",
    "Fault",
    "FaultPlan",
    "ManifestFile",
    "Manners",
    "RepoManifest",
    "RepoShape",
    "RequestRecord",
    "default_root",
    "parse_size",
    "serve",
]
