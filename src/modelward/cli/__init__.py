"""The command-line interface."""

from modelward.cli.app import app, main

__all__ = ["app", "main"]
