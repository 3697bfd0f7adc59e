#!/usr/bin/env bash
# Install what the browser tests need: Debian's chromium (never a browser download)
# and Playwright's Python package (used only as a driver, with chromium's path set).
# Idempotent and quiet: each step is skipped when already done; output is shown
# only when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

quietly() {
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "install-browser: failed: $*" >&2
    exit 1
  fi
}

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: chromium is missing; run as root or: sudo apt-get install chromium" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when apt does not know the package yet.
  if ! apt-cache show chromium >/dev/null 2>&1; then
    quietly apt-get update -qq
  fi
  quietly apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi

PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
if ! "$PY" -c "import playwright.sync_api" >/dev/null 2>&1; then
  # The pip package brings its own driver; the browser is Debian's, not Playwright's.
  quietly "$PY" -m pip install -q "playwright>=1.45"
fi
