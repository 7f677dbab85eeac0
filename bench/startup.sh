#!/usr/bin/env bash
# Run the start-up benchmark (issue 17): --version, --help, status, and peers, as processes.
#   bench/startup.sh                    10 runs of each command (about a minute)
#   bench/startup.sh --runs 3           a quick look
#   bench/startup.sh --only status      only the commands whose label has "status"
#   bench/startup.sh --help             every option
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-.venv/bin/python}" -m bench.startup "$@"
