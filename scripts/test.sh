#!/usr/bin/env bash
# Runs the default test suite with the virtual environment's Python (made by
# `scripts/install.sh --test`). Fails when pytest collects no test (exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
if ! [ -x "$XZB_PY" ]; then
  echo "test: no virtual environment at $XZB_VENV; run: bash scripts/install.sh --test" >&2
  exit 1
fi
# PostgreSQL, MariaDB and Redis for the scale-out tests: started (and prepared) if needed.
scripts/services.sh || true
"$XZB_PY" -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit $rc
