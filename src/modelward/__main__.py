"""``python -m modelward`` runs the CLI."""

from modelward.cli import main

main()
