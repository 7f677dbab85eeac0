"""Schemathesis over the live service on a real socket: whatever a client sends that the
OpenAPI document allows (and much that it does not), the service never answers 5xx, and
every answer has a documented status, content type and body.

One fresh service per operation (on the local hub, with the built-in three-model catalog
and the admin bearer token, so mutating routes run for real); a fixed seed and a bounded
number of examples per operation keep the run at about three minutes on two cores.
Deselect with ``-m "not fuzz"``.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from modelward.api.openapi import openapi_document
from tests.api.conftest import AUTH, LiveService, StartService
from tests.conftest import TI2V

pytestmark = pytest.mark.fuzz

SEED = 16
MAX_EXAMPLES = 200

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        # Most model ids name a catalog model, so mutating routes act on real models;
        # the rest are whatever the generator makes (the 404 and 422 paths).
        "dictionaries": {"models": {"values": [TI2V, "t2v-a14b", "i2v-a14b"]}},
        "parameters": {
            f"{where}.model_id": {"dictionary": "models", "probability": 0.7}
            for where in ("path", "query", "body")
        },
        "generation": {"mode": "all", "deterministic": True, "database": "none"},
        # Stateful links are not declared; each operation is fuzzed on its own.
        "phases": {"stateful": {"enabled": False}},
    }
)

# Left out: the event stream, which never ends by itself (a call would only wait for its
# timeout). Nothing else needs to be: each operation gets a fresh service, so a removed
# model, a revoked token, a purged quarantine or changed settings cannot break another
# operation's cases, and within one operation they are answers like any other. (The
# service's own admin token cannot be revoked through the API.)
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG).exclude(
    path="/api/v1/events"
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def live(start_service: StartService) -> LiveService:
    """A fresh service for each operation: one operation's deletions never leak to the next."""
    return start_service()


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms(case: schemathesis.Case, live: LiveService) -> None:
    case.call_and_validate(
        base_url=str(live.client.base_url), headers=AUTH, checks=CHECKS, timeout=30
    )
