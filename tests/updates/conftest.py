"""The live service fixture, shared with the API tests."""

from tests.api.conftest import start_service

__all__ = ["start_service"]
