#!/usr/bin/env bash
# Pipeline benchmark with the salon CRM: one worker process, 1 turn in 5 a booking question answered
# live from the fake CRM at 50 ms per call (slot cache off, so each of them calls it), the others the
# public Lotus Beauty messages as in bench/run_pipeline.sh. docs/BENCHMARKS.md "Pipeline with the CRM".
#
#   bench/run_pipeline_crm.sh          BENCH_TURNS=1000 BENCH_CRM_EVERY=5 BENCH_CRM_LATENCY=0.05
source "$(dirname "$0")/env.sh"
TURNS="${BENCH_TURNS:-1000}"
"$PY" bench/bench_db.py ensure
export BENCH_KB="${BENCH_KB:-lotus}"
BENCH_COALESCE_WINDOW=0 "$PY" bench/bench_db.py tenant >/dev/null
echo "== pipeline benchmark with the CRM: $TURNS turns, one worker process (--concurrency 1, prefork)"
machine_line
STATUS=0
for every in 0 "${BENCH_CRM_EVERY:-5}"; do
  "$PY" bench/bench_db.py reset
  redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null
  echo "-- CRM every: $every (0 = no CRM)"
  BENCH_COALESCE_WINDOW=0 "$PY" bench/pipeline_bench.py --turns "$TURNS" --queues stable --crm-every "$every" \
    --crm-latency "${BENCH_CRM_LATENCY:-0.05}" 2>&1 | grep -v "UserWarning\|mw_instance" || STATUS=1
done
redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null
exit $STATUS
