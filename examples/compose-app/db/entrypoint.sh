#!/bin/sh
# Starts PostgreSQL on the volume; a fresh volume is initialised with the tasks database and its fixtures first.
set -e
DATA=/var/lib/postgresql/data
chown postgres:postgres "$DATA"
if [ ! -s "$DATA/PG_VERSION" ]; then
  # initdb runs as postgres, who cannot read root's stdin: the password goes through a file of its own.
  pwfile="$(mktemp)"
  printf '%s\n' "${DB_PASSWORD:-tasks}" > "$pwfile"
  chown postgres "$pwfile"
  runuser -u postgres -- initdb -D "$DATA" -A scram-sha-256 --pwfile="$pwfile" -U postgres >/dev/null
  rm -f "$pwfile"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$DATA/pg_hba.conf"
  runuser -u postgres -- pg_ctl -D "$DATA" -o "-c listen_addresses=" -w start >/dev/null
  PGPASSWORD="${DB_PASSWORD:-tasks}" runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -h /run/postgresql -U postgres \
    -c "CREATE ROLE tasks LOGIN PASSWORD '${DB_PASSWORD:-tasks}'" -c "CREATE DATABASE tasks OWNER tasks"
  PGPASSWORD="${DB_PASSWORD:-tasks}" runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -h /run/postgresql -U tasks -d tasks -f /opt/db/fixtures.sql
  runuser -u postgres -- pg_ctl -D "$DATA" -w stop >/dev/null
fi
exec runuser -u postgres -- postgres -D "$DATA" -c listen_addresses='*'
