#!/bin/sh
# examples/wordpress: starts MariaDB (socket only), waits for it, then serves WordPress with PHP's built-in server.
set -e
# A container made from a snapshot (docker commit of a running demo) holds the old server's socket, lock and pid
# files: nothing runs yet, so they are stale, and a pid that happens to be taken again would stop MariaDB starting.
rm -rf /run/mysqld
mkdir -p /run/mysqld /run/wordpress
chown mysql:mysql /run/mysqld
# Per-container salts: 8 random keys, generated here so no two demos share them.
{
  echo '<?php'
  for key in AUTH_KEY SECURE_AUTH_KEY LOGGED_IN_KEY NONCE_KEY AUTH_SALT SECURE_AUTH_SALT LOGGED_IN_SALT NONCE_SALT; do
    echo "define('$key', '$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')');"
  done
} > /run/wordpress/salts.php
mariadbd --user=mysql --skip-networking --skip-name-resolve --innodb-buffer-pool-size=32M --performance-schema=OFF --skip-log-bin &
db=$!
i=0
until mariadb-admin --silent ping >/dev/null 2>&1; do
  i=$((i + 1)); [ "$i" -lt 600 ] || { echo "MariaDB did not start" >&2; exit 1; }
  kill -0 "$db" 2>/dev/null || { echo "MariaDB exited" >&2; exit 1; }
  sleep 0.05
done
PHP_CLI_SERVER_WORKERS="${PHP_WORKERS:-4}" php -d variables_order=EGPCS -S "0.0.0.0:${PORT:-8080}" -t /usr/share/wordpress &
web=$!
trap 'kill "$web" "$db" 2>/dev/null' TERM INT
# Either one ending ends the demo (the controller sees the container stop and says so).
while kill -0 "$db" 2>/dev/null && kill -0 "$web" 2>/dev/null; do sleep 1; done
kill "$web" "$db" 2>/dev/null || true
wait
exit 1
