#!/usr/bin/env bash
# Installs every Debian package vigil needs to build, test, benchmark and demo.
# Idempotent: a second run with everything present does nothing but check.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates python3
  clang libclang-rt-14-dev
  libboost-dev libprotobuf-dev protobuf-compiler libsnappy-dev libzstd-dev
  libsqlite3-dev libsimdjson-dev nlohmann-json3-dev libcurl4-openssl-dev
  libyaml-cpp-dev libfmt-dev libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Real peers used by integration tests, the demo and the benchmark.
PEER_PKGS=(
  prometheus prometheus-node-exporter prometheus-alertmanager
  victoria-metrics stress-ng
  bsdutils        # logger(1): syslog client of tests/logs_ingest_test.py
)
# Peers only the benchmarks need (`scripts/install-deps.sh --bench`, run by
# `make bench`): kept out of CI's install.
if [ "${1:-}" = "--bench" ]; then
  PEER_PKGS+=(python3-pandas)  # peer of bench/kpi_bench.sh
fi
# Node.js runs the official npm clients of the log tests (tests/node). Machines
# may already carry a Node.js that bundles npm (e.g. NodeSource's nodejs, which
# conflicts with Debian's npm package): install Debian's only when absent.
if ! command -v node >/dev/null 2>&1; then PEER_PKGS+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then PEER_PKGS+=(npm); fi

missing=()
for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# There is no init system on CI machines, and tests start services themselves:
# keep the service packages from trying to start their daemons on install.
if [ ! -f /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
