#!/usr/bin/env bash
# Run the peer benchmark from the repository root with the project's venv.
#   bench/run.sh            full run (2.2 GB repo, 3 repetitions, < 10 minutes)
#   bench/run.sh --quick    smoke run (300 MB repo, 1 repetition)
#   bench/run.sh --help     every option
# The fleet benchmark (issue 18: N nodes through a team mirror vs N huggingface_hub pulls):
#   .venv/bin/python -m bench.fleet [--nodes 2,4,8] [--scale 2.2GB]   (see docs/BENCHMARKS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m bench "$@"
