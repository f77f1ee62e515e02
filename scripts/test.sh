#!/usr/bin/env bash
# Runs the default test suite with the virtual environment's Python (made by
# `scripts/install.sh --test`). Fails when pytest collects no test (exit code 5).
#
# Without arguments: three pytest-xdist workers (XZB_TEST_JOBS, default 3; 1 = serial) run every
# test not marked `serial`, then the `serial` tests (time/rate/CPU measurements, listed in
# tests/conftest.py) run alone. The workers take whole modules, longest first (--dist loadscope and
# LONG_MODULES in tests/conftest.py). With arguments: exactly `pytest ARGS` (serial unless you add -n).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
if ! [ -x "$XZB_PY" ]; then
  echo "test: no virtual environment at $XZB_VENV; run: bash scripts/install.sh --test" >&2
  exit 1
fi
# PostgreSQL, MariaDB and Redis for the scale-out tests: started (and prepared) if needed.
scripts/services.sh || true
JOBS="${XZB_TEST_JOBS:-3}"  # the tests mostly wait: 3 workers keep 2 cores at load ~3 (4:09 vs 5:32 with 2)
if [ $# -eq 0 ] && [ "$JOBS" != "1" ] && "$XZB_PY" -c "import xdist" 2>/dev/null; then
  "$XZB_PY" -m pytest -n "$JOBS" --dist loadscope -m "not serial"
  rc=$?
  "$XZB_PY" -m pytest -m serial
  rc2=$?
  if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
  [ $rc -ne 0 ] && exit $rc
  [ $rc2 -eq 5 ] && rc2=0  # no serial test is fine
  exit $rc2
fi
"$XZB_PY" -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit $rc
