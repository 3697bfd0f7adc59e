#!/usr/bin/env bash
# Create the environment, install nbcatalog, build the demo store and run the
# host summary of WKSTN-042 as an HTML report; prints the report's path.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .

.venv/bin/nbcatalog data demo
.venv/bin/nbcatalog run host-summary --host WKSTN-042 --html
