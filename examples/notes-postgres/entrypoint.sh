#!/bin/sh
# examples/notes-postgres: starts PostgreSQL (socket only), waits for it, then serves the app with PHP's built-in server.
set -e
# A container made from a snapshot (docker commit of a running demo) holds the old server's pid and lock files:
# nothing runs yet, so they are stale, and a pid that happens to be taken again would stop PostgreSQL starting.
rm -f /var/lib/postgresql/15/main/postmaster.pid /run/postgresql/.s.PGSQL.*
mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql
runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf -c listen_addresses= -c shared_buffers=32MB &
db=$!
i=0
until runuser -u postgres -- pg_isready -q -h /run/postgresql; do
  i=$((i + 1)); [ "$i" -lt 600 ] || { echo "PostgreSQL did not start" >&2; exit 1; }
  kill -0 "$db" 2>/dev/null || { echo "PostgreSQL exited" >&2; exit 1; }
  sleep 0.05
done
PHP_CLI_SERVER_WORKERS="${PHP_WORKERS:-4}" runuser -u www-data -- php -S "0.0.0.0:${PORT:-8080}" /opt/demo/index.php &
web=$!
trap 'kill "$web" "$db" 2>/dev/null' TERM INT
while kill -0 "$db" 2>/dev/null && kill -0 "$web" 2>/dev/null; do sleep 1; done
kill "$web" "$db" 2>/dev/null || true
wait
exit 1
