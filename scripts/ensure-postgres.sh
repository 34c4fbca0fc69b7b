#!/usr/bin/env bash
# Make sure Debian's PostgreSQL server binaries are installed. The tests start their own throwaway server
# (tests/support/postgres_server.py), so the cluster Debian's package creates and starts is stopped and set to
# manual start. Silent when PostgreSQL is already installed; one line when it installs it.
set -euo pipefail

if compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-postgres: PostgreSQL is not installed and installing it needs root: sudo bash $0" >&2
  exit 1
fi
if ! command -v apt-get > /dev/null; then
  echo "ensure-postgres: PostgreSQL is not installed and there is no apt-get: install PostgreSQL 15+ server binaries" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update && apt-get install -y --no-install-recommends postgresql postgresql-contrib; } \
    < /dev/null > "$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "ensure-postgres: apt-get failed installing postgresql (output above)" >&2
  exit 1
fi

# The package creates a cluster (/etc/postgresql/N/main) and may start it; the tests never use it.
stopped=""
for conf in /etc/postgresql/*/*/start.conf; do
  [ -f "$conf" ] || continue
  cluster_dir=$(dirname "$conf")
  version=$(basename "$(dirname "$cluster_dir")")
  cluster=$(basename "$cluster_dir")
  if pg_ctlcluster "$version" "$cluster" status > /dev/null 2>&1; then
    pg_ctlcluster "$version" "$cluster" stop > /dev/null 2>&1 || true
    stopped=" (stopped Debian's $version/$cluster cluster)"
  fi
  sed -i 's/^[[:space:]]*auto[[:space:]]*$/manual/' "$conf"
done
if [ -d /run/systemd/system ] && command -v systemctl > /dev/null; then
  systemctl disable --now postgresql.service > /dev/null 2>&1 || true
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null; then
  echo "ensure-postgres: installed postgresql but found no /usr/lib/postgresql/*/bin/initdb" >&2
  exit 1
fi
versions=$(cd /usr/lib/postgresql && echo *)
echo "ensure-postgres: installed PostgreSQL $versions from Debian's postgresql package$stopped"
