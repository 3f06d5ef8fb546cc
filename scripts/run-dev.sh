#!/usr/bin/env bash
# `make run`: serve the service with an MQTT broker it can reach.
# Broker choice, in order: INVENTORY_MQTT_URL when it answers; a broker already listening on
# 127.0.0.1:1883; otherwise a Mosquitto started here for this session (stopped on exit),
# listening on 127.0.0.1 only, with its files in $INVENTORY_DATA_DIR/mosquitto.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
DATA="${INVENTORY_DATA_DIR:-var}"
mkdir -p "$DATA"

reachable() { "$BIN/python" -c "
import sys
from inventory_service.ingest.broker import BrokerAddress, reachable
a = BrokerAddress.parse(sys.argv[1]); sys.exit(0 if reachable(a.host, a.port, 1.0) else 1)" "$1"; }

broker_pid=""
cleanup() { [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -n "${INVENTORY_MQTT_URL:-}" ] && reachable "$INVENTORY_MQTT_URL"; then
  echo "run: using the configured MQTT broker"
elif reachable "mqtt://127.0.0.1:1883"; then
  export INVENTORY_MQTT_URL="mqtt://127.0.0.1:1883"
  echo "run: using the MQTT broker already listening on 127.0.0.1:1883"
else
  MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  if [ ! -x "$MOSQ" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto >/dev/null
      MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    else
      echo "run: no MQTT broker reachable and mosquitto is not installed (apt-get install mosquitto)" >&2
      exit 1
    fi
  fi
  port=$("$BIN/python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  mkdir -p "$DATA/mosquitto"
  cat > "$DATA/mosquitto/mosquitto.conf" <<CONF
listener $port 127.0.0.1
user $(id -un)
allow_anonymous true
persistence true
persistence_location $(cd "$DATA/mosquitto" && pwd)/
log_dest file $(cd "$DATA/mosquitto" && pwd)/mosquitto.log
CONF
  "$MOSQ" -c "$DATA/mosquitto/mosquitto.conf" &
  broker_pid=$!
  export INVENTORY_MQTT_URL="mqtt://127.0.0.1:$port"
  echo "run: started a local Mosquitto for this session on 127.0.0.1:$port (anonymous, loopback only)"
fi

echo "run: API on http://${INVENTORY_BIND:-127.0.0.1:8000}/api/v1/health ; create a token with:"
echo "     $BIN/inventory-service token create --name me --role admin"
"$BIN/inventory-service" run
