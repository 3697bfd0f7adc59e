#!/usr/bin/env bash
# Set up everything the tests need (virtual environment, the package and its test
# extras, Debian's Chromium for the browser tests) and run the whole suite.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

if [ -x scripts/install-browser.sh ]; then
  bash scripts/install-browser.sh
fi

.venv/bin/ruff check nbcatalog cli tests benchmarks
.venv/bin/ruff format --check nbcatalog cli tests benchmarks

set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
