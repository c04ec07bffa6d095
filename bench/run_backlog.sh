#!/usr/bin/env bash
# Load run under a backlog with a worker SIGKILLed in the middle (bench/load_backlog.py): gunicorn,
# one Celery worker, the sweeper, Postgres, a private redis-server, the fake ChatFlow — loopback only.
# Exits 1 when anything accepted was lost or doubled.
#
#   bench/run_backlog.sh                                   (or: make bench-backlog)   the issue's shape:
#                                                          100 messages/s, 120 s, one worker process
#   BENCH_BACKLOG_ARGS="--rate 20 --duration 10" bench/run_backlog.sh                  a short one
source "$(dirname "$0")/env.sh"
"$PY" bench/bench_db.py ensure
BENCH_KB=lotus BENCH_COALESCE_WINDOW="${BENCH_COALESCE_WINDOW:-3}" "$PY" bench/bench_db.py tenant >/dev/null
"$PY" bench/bench_db.py reset
echo "== backlog and recovery: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$PY" bench/load_backlog.py ${BENCH_BACKLOG_ARGS:---rate 100 --duration 120 --workers 1} "$@" 2>&1 | grep -v "UserWarning\|mw_instance"
exit "${PIPESTATUS[0]}"
