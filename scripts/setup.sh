# Sourced by run.sh and test.sh: a project virtualenv with the pinned packages, and the pinned
# npm tools. Idempotent; it installs only what is missing or changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PY" -m venv "$ROOT/.venv"
fi
stamp="$ROOT/.venv/.installed-$(cat "$ROOT/$1" "$ROOT/requirements.txt" "$ROOT/constraints.txt" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$1" -c "$ROOT/constraints.txt"
  touch "$stamp"
fi
lockstamp="$ROOT/node_modules/.installed-$(sha1sum "$ROOT/package-lock.json" | cut -c1-12)"
if [ ! -f "$lockstamp" ]; then
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$lockstamp"
fi
