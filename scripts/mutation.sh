#!/usr/bin/env bash
# Mutation testing of the pure modules (setup.cfg [mutmut] says which, and which fast tests).
# Not part of scripts/test.sh or CI (it takes about 35 minutes); run it in the background before a
# stop that touches a module that only_mutate lists (walkthrough rules and case, playbook render and
# values, transcript, redaction, access, the diagnostics reader and assessment). Prints the score per
# module and overall, and fails below
# MUTATION_MIN percent (85 unless set). Extra arguments go to `mutmut run` (mutant names).
# Afterwards `.venv/bin/mutmut show NAME` shows one survivor, `.venv/bin/mutmut browse` all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh requirements-test.txt

# mutmut and its own dependencies, pinned, installed once into .venv on demand.
stamp=".venv/.installed-mutation-$(cat requirements-mutation.txt requirements-test.txt requirements.txt constraints.txt | sha1sum | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  quietly "Installing mutmut (requirements-mutation.txt)" \
    .venv/bin/python -m pip install --disable-pip-version-check -r requirements-mutation.txt -c constraints.txt
  touch "$stamp"
fi

# A fresh copy each run: mutmut's cache would keep verdicts for tests changed since.
rm -rf mutants
# One child: the machine's cores are shared. The progress line goes to mutants/run.log.
mkdir -p mutants
if ! .venv/bin/mutmut run --max-children 1 "$@" >mutants/run.log 2>&1; then
  tail -n 40 mutants/run.log >&2
  echo "mutmut run failed; the whole log is in mutants/run.log" >&2
  exit 1
fi
.venv/bin/mutmut results --all true | .venv/bin/python scripts/mutation_score.py --min "${MUTATION_MIN:-85}"
