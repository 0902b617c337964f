#!/usr/bin/env bash
# Installs npm sharp (SHARP_VERSION, default 0.35.5) under $1 once and prints its node_modules
# folder; used by scripts/bench-bytes/run.sh, scripts/bench-compare/run.sh and the butteraugli check.
set -euo pipefail
cache="$1/sharp-${SHARP_VERSION:-0.35.5}"
if ! NODE_PATH="$cache/node_modules" node -e 'require("sharp")' >/dev/null 2>&1; then
  echo "installing sharp@${SHARP_VERSION:-0.35.5} into $cache" >&2
  mkdir -p "$cache"
  (cd "$cache" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund "sharp@${SHARP_VERSION:-0.35.5}" >/dev/null)
fi
echo "$cache/node_modules"
