#!/bin/sh
# Starts the guestbook. START_DELAY (seconds) and FAIL_AT_START let tests play a slow or broken app; EXIT_AFTER
# (seconds) one whose process dies by itself after it has served a while.
if [ -n "$FAIL_AT_START" ]; then echo "failing at start as asked (FAIL_AT_START)" >&2; exit 3; fi
if [ -n "$START_DELAY" ]; then sleep "$START_DELAY"; fi
# Kept when the container is started again (after a Docker daemon restart): a visitor's entries survive.
[ -f /data/guestbook.txt ] || : > /data/guestbook.txt
echo "guestbook listening on :${PORT:-8080}"
if [ -n "$EXIT_AFTER" ]; then
  /bin/httpd -v -p "${PORT:-8080}" -h /www
  sleep "$EXIT_AFTER"
  echo "exiting as asked (EXIT_AFTER)" >&2
  exit 4
fi
exec /bin/httpd -f -v -p "${PORT:-8080}" -h /www
