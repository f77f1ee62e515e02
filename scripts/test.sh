#!/usr/bin/env bash
# Runs the default test suite with the virtual environment's Python (made by
# `scripts/install.sh --test`). Fails when pytest collects no test (exit code 5).
#
# Without arguments: three pytest-xdist workers (XZB_TEST_JOBS, default 3; 1 = serial) run every
# test not marked `serial`, then the `serial` tests (time/rate/CPU measurements, listed in
# tests/conftest.py) run alone, collected from their modules only. The workers take whole
# modules, longest first (--dist loadscope and LONG_MODULES in tests/conftest.py).
# With arguments: exactly `pytest ARGS` (serial unless you add -n).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
if ! [ -x "$XZB_PY" ]; then
  echo "test: no virtual environment at $XZB_VENV; run: bash scripts/install.sh --test" >&2
  exit 1
fi
# PostgreSQL, MariaDB and Redis for the scale-out tests: started (and prepared) if needed.
scripts/services.sh || true
# With PYTHONDONTWRITEBYTECODE set every Python process of the suite (3 pytest workers, the serial
# pytest, ~200 servers/pushers/players) compiled its modules again and pytest rewrote every test
# module and plugin: 15.9 s CPU to collect the suite instead of 7.7 s, ~0.3 s more per process.
# The bytecode then goes to a cache outside the tree (set PYTHONPYCACHEPREFIX to choose it).
if [ -n "${PYTHONDONTWRITEBYTECODE:-}" ]; then
  unset PYTHONDONTWRITEBYTECODE
  export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/xiaozhibo/pycache}"
fi
JOBS="${XZB_TEST_JOBS:-3}"  # the tests mostly wait: 3 workers keep 2 cores at load ~3 (4:09 vs 5:32 with 2)
if [ $# -eq 0 ] && [ "$JOBS" != "1" ] && "$XZB_PY" -c "import xdist" 2>/dev/null; then
  "$XZB_PY" -m pytest -n "$JOBS" --dist loadscope -m "not serial"
  rc=$?
  # only the modules that hold serial tests are collected (the whole suite took ~8-16 s CPU)
  mapfile -t serial_files < <("$XZB_PY" -c 'from tests.conftest import serial_files; print(*serial_files(), sep="\n")')
  "$XZB_PY" -m pytest -m serial "${serial_files[@]}"
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
