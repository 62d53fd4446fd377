#!/usr/bin/env bash
# One-line set-up, run before `npm start` or `npm test` (the README's two commands start with it). Idempotent and
# quick when there is nothing to do:
#  1. the system driver for WebGPU (Mesa 25 lavapipe from the machine's own Debian mirror, backports suite) —
#     as root, or with sudo; without either the node still runs, on the CPU kernels, and this says how to get WebGPU;
#  2. the npm packages (`npm ci`), Node 22 among them (the npm scripts run it from node_modules/.bin), when
#     node_modules is missing or older than package-lock.json.
set -uo pipefail
cd "$(dirname "$0")"
if ! bash .ci/install-system.sh; then
  echo "setup: WebGPU driver not installed — the node and the tests still run, on the TypeScript kernels." >&2
  echo "setup: for WebGPU on the CPU, run as root: bash .ci/install-system.sh" >&2
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: npm not found. Install Node.js >= 20 with npm (Debian: apt-get install nodejs npm), then rerun." >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -x node_modules/.bin/node ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund || exit 1
else
  echo "setup: npm packages up to date"
fi
