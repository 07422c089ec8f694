#!/usr/bin/env bash
# Build llama.cpp's server (llama-server) from the very llama.cpp source that the installed
# llama-cpp-python was compiled from (its sdist vendors it), with the install's CPU flags, into
# .venv/bin/llama-server. Both runtimes then run the same kernels on the same GGUF.
# Usage: scripts/build-llama-server.sh   (after scripts/install.sh; about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/cmake-args.sh

python=.venv/bin/python
version=$("$python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')
target=.venv/bin/llama-server
stamp=.venv/llama-server.version
if [ -x "$target" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version $CMAKE_ARGS" ]; then
  echo "llama-server for llama-cpp-python $version already built"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The sdist (pip's cache holds it after install.sh; only the package registry is contacted).
"$python" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
  "llama-cpp-python==$version" -d "$work"
tar -xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
src="$work/llama_cpp_python-$version/vendor/llama.cpp"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of flags
cmake -S "$src" -B "$work/build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF \
  -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON $CMAKE_ARGS >"$work/cmake.log"
cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" \
  || { tail -30 "$work/build.log" >&2; exit 1; }
install -m 755 "$work/build/bin/llama-server" "$target"
echo "$version $CMAKE_ARGS" >"$stamp"
echo "llama-server built from llama-cpp-python $version's llama.cpp: $target"
