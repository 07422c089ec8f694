#!/usr/bin/env bash
# Install radlite-fhir into ./.venv (with --dev: the test and lint tools too).
#
# llama-cpp-python is published on PyPI as an sdist only, so pip compiles llama.cpp (about
# 4 minutes on 2 cores; pip caches the wheel afterwards). A native build crashes on CPUs that
# advertise AMX which the VM does not enable, so we build for an explicit instruction set:
# AVX2 everywhere, AVX-512 where /proc/cpuinfo shows it, AMX never. Override with CMAKE_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [ "${1:-}" = "--dev" ]; then extras="[dev]"; fi

if [ -z "${CMAKE_ARGS:-}" ]; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
  if grep -q -w avx512f /proc/cpuinfo 2>/dev/null; then
    CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512=ON"
    grep -q -w avx512_vnni /proc/cpuinfo && CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512_VNNI=ON"
    grep -q -w avx512_vbmi /proc/cpuinfo && CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512_VBMI=ON"
    grep -q -w avx512_bf16 /proc/cpuinfo && CMAKE_ARGS="$CMAKE_ARGS -DGGML_AVX512_BF16=ON"
  fi
  CMAKE_ARGS="$CMAKE_ARGS -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
fi
export CMAKE_ARGS

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
echo "radlite-fhir installed in .venv ($(.venv/bin/radlite --version))"
