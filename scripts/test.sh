#!/usr/bin/env bash
# Runs the default test suite. Fails when pytest collects no test (exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
# Services the scale-out tests use (the machine normally starts them; start any that is down).
scripts/services.sh || true
python3 -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi
exit $rc
