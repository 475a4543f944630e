#!/usr/bin/env bash
# Regenerates the Python protobuf + gRPC code in libs/contracts/src/surge/ from proto/.
#
#   scripts/proto.sh           regenerate (replaces libs/contracts/src/surge/ entirely)
#   scripts/proto.sh --check   regenerate into a temp dir and fail if the committed code differs
#
# Output per context: <ctx>_pb2.py + .pyi (messages), <ctx>_pb2_grpc.py (stubs, servicers) and
# <ctx>_pb2_grpc.pyi (typed stubs from mypy-protobuf), importable as `surge.<ctx>.v1.<ctx>_pb2`.
# Tool versions come from uv.lock (grpcio-tools, mypy-protobuf), so output is reproducible.
set -euo pipefail

usage() { echo "usage: $0 [--check]" >&2; exit 2; }

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  -h | --help) usage ;;
  *) usage ;;
esac
[[ $# -le 1 ]] || usage

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

proto_dir="proto"
target="libs/contracts/src/surge"
mypy_grpc_plugin="$root/.venv/bin/protoc-gen-mypy_grpc"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
out="$work/surge"
mkdir -p "$out"

# Sorted for a stable order; paths relative to proto/ so imports read `surge.<ctx>.v1`.
mapfile -t protos < <(cd "$proto_dir" && find surge -name '*.proto' -type f | LC_ALL=C sort)
[[ ${#protos[@]} -gt 0 ]] || { echo "error: no .proto files under $proto_dir/" >&2; exit 1; }

# google/protobuf/*.proto (Timestamp, ...) ship inside grpcio-tools. This first `uv run` also syncs
# the venv, which installs protoc-gen-mypy_grpc (mypy-protobuf, dev group).
wkt_include="$(uv run python -c \
  'import grpc_tools, pathlib; print(pathlib.Path(grpc_tools.__file__).parent / "_proto")')"
[[ -x "$mypy_grpc_plugin" ]] || {
  echo "error: $mypy_grpc_plugin not found (mypy-protobuf, dev group); run 'uv sync'" >&2
  exit 1
}

(
  cd "$proto_dir"
  uv run python -m grpc_tools.protoc \
    -I . \
    -I "$wkt_include" \
    --python_out="$work" \
    --pyi_out="$work" \
    --grpc_python_out="$work" \
    --plugin=protoc-gen-mypy_grpc="$mypy_grpc_plugin" \
    --mypy_grpc_opt=quiet \
    --mypy_grpc_out="$work" \
    "${protos[@]}"
)

# protoc writes modules only; make every directory a regular, typed package.
touch "$out/py.typed"
find "$out" -type d -print0 | while IFS= read -r -d '' dir; do
  [[ -e "$dir/__init__.py" ]] || : >"$dir/__init__.py"
done

if $check; then
  if diff -r -q -x __pycache__ "$target" "$out" >"$work/summary"; then
    echo "proto: generated code in $target is up to date (${#protos[@]} proto files)"
    exit 0
  fi
  echo "proto: generated code in $target is stale; run 'make proto' (scripts/proto.sh) and commit:" >&2
  sed -e "s#$work/#<generated>/#g" "$work/summary" >&2
  diff -r -u -x __pycache__ "$target" "$out" | sed -e "s#$work/#<generated>/#g" | head -n 60 >&2 || true
  exit 1
fi

rm -rf "$target"
cp -R "$out" "$target"
echo "proto: regenerated $target from ${#protos[@]} proto files"
