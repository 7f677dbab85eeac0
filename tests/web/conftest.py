"""The dashboard's tests run against the same live service the API tests use."""

from tests.api.conftest import start_service

__all__ = ["start_service"]
