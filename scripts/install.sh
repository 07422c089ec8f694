#!/usr/bin/env bash
# Install radlite-fhir into ./.venv (with --dev: the test and lint tools too).
#
# llama-cpp-python is published on PyPI as an sdist only, so pip compiles llama.cpp (about
# 4 minutes on 2 cores; pip caches the wheel afterwards) for an explicit instruction set
# (scripts/cmake-args.sh; override with CMAKE_ARGS). With --dev, llama.cpp's server is built
# from the same source too (scripts/build-llama-server.sh): the server runtime's tests use it.
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
if [ "${1:-}" = "--dev" ]; then
  extras="[dev]"
  # The DICOM tests validate what we write with dcmtk (dsrdump) and PixelMed, and use Orthanc
  # as a PACS peer; the review page is tested in headless Chromium: Debian packages.
  packages="dcmtk pixelmed-apps orthanc chromium"
  if ! { command -v dsrdump && command -v Orthanc && [ -f /usr/share/java/pixelmed.jar ] && command -v chromium; } >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get install -y -q $packages >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $packages >/dev/null; }
      # The package starts a system Orthanc on 4242/8042; the tests run their own.
      command -v service >/dev/null && service orthanc stop >/dev/null 2>&1 || true
    else
      echo "install.sh --dev: the tests need Debian packages: sudo apt-get install $packages" >&2
      exit 1
    fi
  fi
fi

. scripts/cmake-args.sh

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
if [ -n "$extras" ]; then
  # The tests check every FHIR output with a second, StructureDefinition-based R4 validator
  # (tools/fhir-validate: Medplum's validateResource plus a reference-target check), pinned
  # by its package-lock.json. Skipped when it is already installed at the locked versions.
  if ! command -v npm >/dev/null; then
    echo "install.sh --dev: the FHIR validation tests need Node.js >= 20 and npm" >&2
    exit 1
  fi
  lock=tools/fhir-validate/package-lock.json
  installed=tools/fhir-validate/node_modules/.package-lock.json
  if ! { [ -f "$installed" ] && [ "$installed" -nt "$lock" ]; }; then
    npm ci --prefix tools/fhir-validate --no-audit --no-fund --loglevel=error >/dev/null
  fi
fi
if [ -n "$extras" ]; then
  ./scripts/build-llama-server.sh
fi
echo "radlite-fhir installed in .venv ($(.venv/bin/radlite --version))"
