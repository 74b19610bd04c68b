#!/bin/sh
# Plays one kind of bad app (MODE), after answering HTTP for AFTER seconds so the launch itself succeeds.
serve() { /bin/httpd -p 8080 -h /www; }
case "$MODE" in
  never-ready)
    # Runs, never listens.
    exec sleep 100000 ;;
  crash-later)
    serve; sleep "${AFTER:-2}"; echo "crashing as asked" >&2; exit 1 ;;
  memory-hog)
    # tail keeps a line with no newline in memory: it grows until the memory limit stops it.
    serve; sleep "${AFTER:-2}"; exec tail /dev/zero ;;
  fork-bomb)
    # Every process forks two more, then holds its place: without a pids limit this takes the host down.
    # (A shell whose fork fails exits, so the survivors sleep rather than fork for ever.)
    bomb() { bomb & bomb & sleep 100000; }
    (sleep "${AFTER:-2}"; bomb) &
    exec /bin/httpd -f -p 8080 -h /www ;;
  ignore-term)
    # Shrugs off SIGTERM (PID 1 with the signal ignored), so only a kill ends it: the time box must hold anyway.
    trap '' TERM
    /bin/httpd -f -p 8080 -h /www &
    while :; do sleep 1; done ;;
  *)
    exec /bin/httpd -f -p 8080 -h /www ;;
esac
