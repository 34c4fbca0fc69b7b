#!/usr/bin/env bash
# The benchmarks' load generator: wrk, from Debian's packages.
set -euo pipefail
command -v wrk > /dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-bench-tools: wrk is not installed and installing it needs root (apt-get install wrk)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends wrk > /dev/null
echo "ensure-bench-tools: installed wrk"
