#!/usr/bin/env bash
# Pipeline benchmark: turns/s of ONE Celery worker process against the fake ChatFlow, with
# Postgres and a Redis broker (bench/env.sh), the real `decide_reply` on the public Lotus Beauty
# KB (BENCH_KB=none: a tenant without knowledge, every turn escalates). Two runs:
#   1. the worker consumes only the turn queue (`stable`): turns per worker process;
#   2. the worker also takes the notification tasks each escalation queues (`stable,default`).
# Exits 1 unless every turn produced exactly one message at the gateway.
#
#   bench/run_pipeline.sh            (or: make bench-pipeline)      BENCH_TURNS=1000
source "$(dirname "$0")/env.sh"
TURNS="${BENCH_TURNS:-1000}"
"$PY" bench/bench_db.py ensure
export BENCH_KB="${BENCH_KB:-lotus}"
BENCH_COALESCE_WINDOW=0 "$PY" bench/bench_db.py tenant >/dev/null
echo "== pipeline benchmark: $TURNS turns per run, one worker process (--concurrency 1, prefork)"
machine_line
STATUS=0
for queues in stable stable,default; do
  "$PY" bench/bench_db.py reset
  redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null
  echo "-- worker queues: $queues"
  BENCH_COALESCE_WINDOW=0 "$PY" bench/pipeline_bench.py --turns "$TURNS" --queues "$queues" 2>&1 | grep -v "UserWarning\|mw_instance" || STATUS=1
done
redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null
exit $STATUS
