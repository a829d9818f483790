#!/bin/sh
# Creates Temporal's two databases on PostgreSQL (temporal, temporal_visibility) and brings their schemas to
# the version of the server that runs them, from the schemas embedded in temporal-sql-tool. Safe to run again:
# existing databases are kept and only missing schema versions are applied.
#
# docker-compose.yml runs it in the temporalio/admin-tools image; the production twin runs it with the
# temporal-sql-tool built from the Go module proxy (TEMPORAL_SQL_TOOL). Connection: SQL_HOST, SQL_PORT,
# SQL_USER, and the password in SQL_PASSWORD or in the file SQL_PASSWORD_FILE (a compose secret).
set -eu
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
: "${SQL_HOST:=postgresql}" "${SQL_PORT:=5432}" "${SQL_USER:=temporal}"
if [ -z "${SQL_PASSWORD:-}" ] && [ -n "${SQL_PASSWORD_FILE:-}" ]; then
  SQL_PASSWORD=$(cat "$SQL_PASSWORD_FILE")
fi
export SQL_HOST SQL_PORT SQL_USER SQL_PASSWORD

sql() { "$tool" --plugin postgres12 --quiet "$@"; }
# The first creation also waits for PostgreSQL to accept connections.
tries=0
until sql --db temporal create-database --defaultdb postgres >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "PostgreSQL at $SQL_HOST:$SQL_PORT did not accept us:" >&2
    sql --db temporal create-database --defaultdb postgres
    exit 1
  fi
  sleep 1
done
for pair in temporal:temporal temporal_visibility:visibility; do
  db=${pair%%:*}
  schema=${pair#*:}
  sql --db "$db" create-database --defaultdb postgres
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema --schema-name "postgresql/v12/$schema"
done
echo "Temporal schema ready on $SQL_HOST:$SQL_PORT"
