#!/usr/bin/env bash
# Run the status benchmark (issue 16, finding 13) from the repository root with the venv.
#   bench/status.sh                     full run: 20 clients x 10 s, 3 runs, 20,000 entries
#   bench/status.sh --runs 1 --seconds 3 --entries 2000    smoke run (~40 s)
#   bench/status.sh --help              every option
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m bench.status_bench "$@"
