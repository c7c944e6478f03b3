#!/usr/bin/env bash
# Creates .venv-validators/ (gitignored) at the repository root and installs the external
# validators pinned in .ci/validators/requirements.txt into it. Idempotent: when the venv already
# holds exactly the pinned requirements it returns at once without touching the network.
#
# Afterwards:
#   UMGATE_VALIDATORS_PYTHON=$PWD/.venv-validators/bin/python cargo test --test external_validators
#   UMGATE_VALIDATORS_PYTHON=$PWD/.venv-validators/bin/python cargo test --test mapping_271
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
venv="$root/.venv-validators"
requirements="$root/.ci/validators/requirements.txt"
stamp="$venv/.requirements.installed"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp" \
  && "$venv/bin/python" -c 'import pyx12.x12n_document, linuxforhealth.x12.io' >/dev/null 2>&1; then
  echo "validators: $venv is up to date"
  exit 0
fi

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3 /usr/bin/python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' >/dev/null 2>&1; then
      python="$candidate"
      break
    fi
  done
fi
[ -n "$python" ] || { echo "validators: no python3 with the venv module found" >&2; exit 1; }

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m pip --version >/dev/null 2>&1; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
"$venv/bin/python" -c 'import pyx12, pyx12.x12n_document; print("validators: pyx12", getattr(pyx12, "__version__", "?"), "installed in", "'"$venv"'")'
# linuxforhealth-x12 fails at import, not at install, when its dependencies are wrong (pydantic 2).
"$venv/bin/python" -c 'import linuxforhealth.x12.io; print("validators: linuxforhealth-x12 importable")'
cp "$requirements" "$stamp"
