#!/usr/bin/env bash
# Run the integrity benchmark from the repository root with the project's venv.
#   bench/health.sh            full run (6 GB repo, 3 repetitions)
#   bench/health.sh --quick    smoke run (0.35 GB repo, 1 repetition)
#   bench/health.sh --help     every option
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m bench.health_bench "$@"
