#!/usr/bin/env bash
# Make sure Debian's PostgreSQL server binaries are installed; the tests start their own throwaway server.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-postgres: PostgreSQL is not installed and installing it needs root (apt-get install postgresql)" >&2
  exit 1
fi
echo "ensure-postgres: installing Debian's postgresql package"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib > /dev/null
# The package starts its own cluster; the tests never use it.
if command -v pg_ctlcluster > /dev/null; then
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] || continue
    version=$(basename "$(dirname "$cluster")")
    pg_ctlcluster "$version" main stop 2> /dev/null || true
  done
fi
echo "ensure-postgres: installed $(ls /usr/lib/postgresql)"
