#!/usr/bin/env bash
# Make sure the services the test suite talks to are installed and running.
#  - Mosquitto: the tests start their own broker on a free port, so only the binary is needed.
#  - PostgreSQL: the tests create (and drop) a database of their own on INVENTORY_TEST_PG_URL
#    (default postgres@127.0.0.1:5432, trust auth). When it is not answering, start the local
#    cluster; when it is not installed and we may use apt-get, install it.
# Under CI=true anything still missing is an error; locally the affected tests are skipped.
set -uo pipefail

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }
apt_install() {
  if can_apt; then
    echo "test-services: installing $*" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >/dev/null 2>&1 || true
  fi
}
pg_up() { "${PY:-.venv/bin/python}" - <<'PY'
import os, sys
import psycopg
url = os.environ.get("INVENTORY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
try:
    psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
except Exception as exc:
    print(f"test-services: PostgreSQL not answering: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

missing=()

if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  apt_install mosquitto
fi
if ! command -v mosquitto >/dev/null && [ ! -x /usr/sbin/mosquitto ]; then
  missing+=("mosquitto (Debian package 'mosquitto')")
fi

if ! pg_up 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql
  fi
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do pg_up 2>/dev/null && break; sleep 1; done
  if ! pg_up; then
    missing+=("PostgreSQL at ${INVENTORY_TEST_PG_URL:-127.0.0.1:5432}")
  fi
fi

bash "$(dirname "$0")/install-browser.sh" || missing+=("chromium + chromium-driver (Debian packages)")

if [ ${#missing[@]} -gt 0 ]; then
  echo "test-services: missing: ${missing[*]}" >&2
  case "${CI:-}" in
    true|1|yes) echo "test-services: CI=true, so this is a failure" >&2; exit 1 ;;
    *) echo "test-services: the tests that need them will be skipped" >&2 ;;
  esac
fi
exit 0
