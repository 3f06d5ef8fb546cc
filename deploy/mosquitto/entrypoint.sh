#!/bin/sh
# Entrypoint of the `mosquitto` service in docker-compose.yml (eclipse-mosquitto:2, runs as root until the
# broker drops to its `mosquitto` user). Prepares the auth files, then hands over to the image's own
# entrypoint, which execs the command (the broker becomes PID 1 and receives SIGHUP/SIGTERM itself).
set -eu

: "${MQTT_SERVICE_PASSWORD:?MQTT_SERVICE_PASSWORD is not set (see deploy/env.example)}"

PASSWD=/mosquitto/data/passwd
ACL=/mosquitto/config/acl

# The ACL from the repository (mounted read-only), owned by the broker's user and private, as Mosquitto
# 2 expects of acl_file.
cp /deploy/mosquitto/acl "$ACL"
chown mosquitto:mosquitto "$ACL"
chmod 0600 "$ACL"

# The password file keeps the device accounts across restarts (mosquitto-data volume). Create it empty on
# first start, then (re)write the service account so that it always matches .env.
if [ ! -f "$PASSWD" ]; then
    (umask 077 && : > "$PASSWD")
fi
mosquitto_passwd -b "$PASSWD" service "$MQTT_SERVICE_PASSWORD"
chown mosquitto:mosquitto "$PASSWD"
chmod 0600 "$PASSWD"

exec /docker-entrypoint.sh "$@"
