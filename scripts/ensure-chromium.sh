#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/e2e), never a browser build downloaded by Playwright.
# Quiet and idempotent: does nothing when /usr/bin/chromium is there; without root it says so and the tests skip.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "ensure-chromium: /usr/bin/chromium is missing and this user cannot apt-get install it; the browser tests will skip" >&2; exit 0; fi
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
