#!/usr/bin/env bash
# Install what the browser tests need: Debian's chromium (never a browser download)
# and Playwright's Python package (used only as a driver, with chromium's path set).
# Idempotent and quiet: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: chromium is missing; run as root or: sudo apt-get install chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Only refresh the package lists when apt does not know the package yet.
  if ! apt-cache show chromium >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
  fi
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi

PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
if ! "$PY" -c "import playwright" >/dev/null 2>&1; then
  # The pip package brings its own driver; browsers come from Debian, not from it.
  "$PY" -m pip install -q "playwright>=1.45"
fi
