# Sourced by run.sh, test.sh and mutation.sh: a project virtualenv with the pinned packages, and
# the pinned npm tools. Idempotent; it installs only what is missing or changed. pip's and npm's
# output goes to data/setup.log (SETUP_LOG); when a step fails, the end of that log is shown.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
mkdir -p "$ROOT/data"
SETUP_LOG="${SETUP_LOG:-$ROOT/data/setup.log}"

# quietly "what it is" command...: the command's output into the log; on failure, its tail and exit 1.
quietly() {
  local what="$1"
  shift
  echo "  $what (log: ${SETUP_LOG#"$ROOT"/})" >&2
  printf '\n=== %s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$what" "$*" >>"$SETUP_LOG"
  if ! "$@" >>"$SETUP_LOG" 2>&1; then
    echo "$what failed. The end of $SETUP_LOG:" >&2
    tail -n 30 "$SETUP_LOG" | sed 's/^/    /' >&2
    exit 1
  fi
}

if [ ! -x "$ROOT/.venv/bin/python" ]; then
  quietly "Creating .venv with $PY" "$PY" -m venv "$ROOT/.venv"
fi
stamp="$ROOT/.venv/.installed-$(cat "$ROOT/$1" "$ROOT/requirements.txt" "$ROOT/constraints.txt" | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  quietly "Installing the pinned Python packages ($1)" \
    "$ROOT/.venv/bin/python" -m pip install --disable-pip-version-check -r "$ROOT/$1" -c "$ROOT/constraints.txt"
  touch "$stamp"
fi
lockstamp="$ROOT/node_modules/.installed-$(sha1sum "$ROOT/package-lock.json" | cut -c1-12)"
if [ ! -f "$lockstamp" ]; then
  (cd "$ROOT" && quietly "Installing the pinned npm tools (package-lock.json)" npm ci --no-audit --no-fund)
  touch "$lockstamp"
fi
