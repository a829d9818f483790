#!/bin/sh
# The temporalio/server container's command in docker-compose.yml: the image's own entrypoint, except that
# the server runs on deploy/temporal/config.yaml and reads the database password from a compose secret
# file, so the password is in no environment variable that `docker compose config` prints.
set -eu
POSTGRES_PWD=$(cat "${POSTGRES_PWD_FILE:-/run/secrets/postgres_password}")
export POSTGRES_PWD
: "${BIND_ON_IP:=0.0.0.0}"
if [ "$BIND_ON_IP" = "0.0.0.0" ]; then
  : "${TEMPORAL_BROADCAST_ADDRESS:=$(getent hosts "$(hostname)" | awk '{print $1; exit}')}"
  export TEMPORAL_BROADCAST_ADDRESS
fi
export BIND_ON_IP
exec temporal-server --config-file /etc/temporal/config/config.yaml --allow-no-auth start
