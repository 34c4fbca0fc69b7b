#!/usr/bin/env bash
# A Java runtime for Spark (pyspark's local mode starts a JVM): the population pipeline on Spark, the person index's
# Splink model and the SQL on FHIR suite on Spark (tests/conformance) need one. Debian's default-jre-headless when
# `java` is missing. Quiet and idempotent: does nothing when `java` is on the PATH; one line when it installs it.
set -euo pipefail

if command -v java > /dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-java: java is not installed and installing it needs root: sudo bash $0" >&2
  exit 1
fi
if ! command -v apt-get > /dev/null; then
  echo "ensure-java: java is not installed and there is no apt-get: install a Java 17 runtime" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# Debian's openjdk postinst scripts expect man page folders that slim images delete.
mkdir -p /usr/share/man/man1
if ! { apt-get update && apt-get install -y --no-install-recommends default-jre-headless; } < /dev/null > "$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "ensure-java: apt-get failed installing default-jre-headless (output above)" >&2
  exit 1
fi
if ! command -v java > /dev/null; then
  echo "ensure-java: installed default-jre-headless but found no java on the PATH" >&2
  exit 1
fi
echo "ensure-java: installed $(java -version 2>&1 | head -n 1) from Debian's default-jre-headless"
