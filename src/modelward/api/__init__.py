"""The HTTP service: a thin shell over the same Python calls the CLI makes."""

from modelward.api.app import create_app

__all__ = ["create_app"]
