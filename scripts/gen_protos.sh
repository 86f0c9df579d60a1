#!/usr/bin/env bash
# Regenerates the Python protobuf/gRPC code (with .pyi stubs) from protos/ into gen/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
rm -rf gen/swarmcast
mkdir -p gen
files=$(cd protos && find swarmcast -name '*.proto' | sort)
(cd protos && "../$PY" -m grpc_tools.protoc -I . \
  --python_out=../gen --pyi_out=../gen --grpc_python_out=../gen $files)
# Every generated folder is a regular package.
find gen/swarmcast -type d -exec touch {}/__init__.py \;
