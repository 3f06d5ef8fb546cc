#!/usr/bin/env bash
# Make sure the headless browser for tests/e2e/test_station_page.py is there: Debian's chromium and
# its chromedriver (/usr/bin/chromium, /usr/bin/chromedriver). Nothing is downloaded from anywhere
# but the distribution's own archive, and nothing happens when both are already installed.
# Installs only as root with apt-get; otherwise it says what is missing and leaves it at that (the
# test then skips locally and fails under CI=true).
set -uo pipefail

have() { command -v chromium >/dev/null && command -v chromedriver >/dev/null; }

if have; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "install-browser: installing chromium and chromium-driver" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; } \
    >/dev/null 2>&1 || true
fi
if ! have; then
  echo "install-browser: chromium and chromedriver are missing (Debian packages chromium, chromium-driver)" >&2
  case "${CI:-}" in
    true|1|yes) exit 1 ;;
  esac
fi
exit 0
