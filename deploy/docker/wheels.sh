#!/usr/bin/env bash
# Builds the wheels the local images install (`pip install --no-index`), on the host, into
# deploy/docker/wheels/ (git-ignored): no build inside Docker reaches the network, which matters
# where HTTPS from a container does not verify against the host's proxy (deploy/README.md).
#
#   deploy/docker/wheels.sh [LOCK...]
#       default: deploy/docker/requirements.lock (the service images) and
#                deploy/docker/local/s3-requirements.lock (the local S3 server)
#
# Reused between runs: a lock whose every pin is already a wheel there costs one offline pip
# resolve; otherwise pip fetches (or builds) only what is missing. The wheels are for the images'
# Python 3.11 on glibc Linux x86-64: run it with a Python 3.11 (PYTHON=..., default .venv's).
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WHEEL_DIR=${SWARMCAST_WHEEL_DIR:-$REPO_ROOT/deploy/docker/wheels}
PYTHON=${PYTHON:-$REPO_ROOT/.venv/bin/python}
[[ -x $PYTHON ]] || PYTHON=python3

if [[ $# -gt 0 ]]; then
  locks=("$@")
else
  locks=("$REPO_ROOT/deploy/docker/requirements.lock" "$REPO_ROOT/deploy/docker/local/s3-requirements.lock")
fi

version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ $version != 3.11 ]]; then
  echo "wheels.sh: $PYTHON is Python $version; the images run Python 3.11 (set PYTHON=...)" >&2
  exit 2
fi

mkdir -p "$WHEEL_DIR"
pip_wheel=("$PYTHON" -m pip wheel --disable-pip-version-check --no-input --no-deps
  --find-links "$WHEEL_DIR" --wheel-dir "$WHEEL_DIR")
for lock in "${locks[@]}"; do
  started=$SECONDS
  # The locks pin every package (dependencies included), so --no-deps loses nothing.
  if "${pip_wheel[@]}" --quiet --no-index -r "$lock" >/dev/null 2>&1; then
    echo "wheels: $(basename "$lock"): all present in $WHEEL_DIR"
    continue
  fi
  echo "wheels: $(basename "$lock"): fetching what is missing into $WHEEL_DIR"
  "${pip_wheel[@]}" --quiet -r "$lock"
  echo "wheels: $(basename "$lock"): done in $((SECONDS - started)) s"
done
