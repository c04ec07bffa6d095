#!/usr/bin/env bash
# Webhook ingest benchmark: Imperium's webhook (gunicorn + Postgres + Redis) against a bare WSGI
# reference that does only signature check + JSON parse + one INSERT, same gunicorn settings,
# alternating runs in the same session (so a noisy machine hits both alike).
#
#   bench/run_webhook.sh            (or: make bench-webhook)
#
# Env (defaults): BENCH_DATABASE_URL, BENCH_REDIS_URL (see bench/env.sh), BENCH_DURATION=10 (s),
# BENCH_CONNECTIONS="8 32", BENCH_ROUNDS=3 (runs per target and concurrency; medians reported),
# BENCH_WEB_WORKERS=4 (gunicorn sync workers, both servers), BENCH_BURST=1 (messages per new
# customer: 1 = every request opens a conversation and queues a turn, the heaviest path).
# Prints every run and a summary; exits 1 if any accepted message was lost or stored twice.
source "$(dirname "$0")/env.sh"

DURATION="${BENCH_DURATION:-10}"
CONNECTIONS="${BENCH_CONNECTIONS:-8 32}"
ROUNDS="${BENCH_ROUNDS:-3}"
WORKERS="${BENCH_WEB_WORKERS:-4}"
BURST="${BENCH_BURST:-1}"
PORT="${BENCH_PORT:-8911}"
MAX_RPS="${BENCH_MAX_RPS:-8000}"   # request pool per run = MAX_RPS * DURATION distinct messages
command -v wrk >/dev/null || { echo "wrk is required (apt-get install -y wrk)"; exit 2; }
command -v redis-cli >/dev/null || { echo "redis-cli is required"; exit 2; }

"$PY" bench/bench_db.py ensure
TENANT_JSON="$("$PY" bench/bench_db.py tenant)"
SLUG="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["slug"])' "$TENANT_JSON")"
export BENCH_SECRET="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$TENANT_JSON")"

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

serve() {  # $1 = wsgi app, $2 = port, $3 = log name
  "$PY" -m gunicorn "$1" --bind "127.0.0.1:$2" --workers "$WORKERS" --worker-class sync \
    --log-level warning --error-logfile "$BENCH_VAR/gunicorn-$3.log" &
  PIDS+=($!)
}
serve imperium.wsgi:application "$PORT" imperium
serve bench.bare_wsgi:application "$((PORT + 1))" bare
for p in "$PORT" "$((PORT + 1))"; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.2; done
done

fresh_state() { "$PY" bench/bench_db.py reset; redis-cli -u "$BENCH_REDIS_URL" FLUSHDB >/dev/null; }

echo "== webhook benchmark: ${DURATION}s runs, connections: $CONNECTIONS, $ROUNDS rounds, gunicorn sync workers: $WORKERS, burst: $BURST"
machine_line
STATUS=0
SUMMARY="$BENCH_VAR/webhook-runs.txt"
: > "$SUMMARY"
for conns in $CONNECTIONS; do
  for round in $(seq 1 "$ROUNDS"); do
    "$PY" bench/make_requests.py --slug "$SLUG" --secret "$BENCH_SECRET" --count $((MAX_RPS * DURATION)) \
      --burst "$BURST" --out "$BENCH_VAR/requests.tsv"
    order="imperium bare"; [ $((round % 2)) -eq 0 ] && order="bare imperium"
    for target in $order; do
      port="$PORT"; [ "$target" = bare ] && port=$((PORT + 1))
      fresh_state
      wrk -t2 -c"$conns" -d1s -s bench/webhook.lua "http://127.0.0.1:$port" -- "$BENCH_VAR/requests.tsv" 2 >/dev/null  # warm-up
      fresh_state
      OUT="$(wrk -t2 -c"$conns" -d"${DURATION}s" --latency -s bench/webhook.lua "http://127.0.0.1:$port" -- "$BENCH_VAR/requests.tsv" 2)"
      RESULT="$(echo "$OUT" | sed -n 's/^RESULT //p')"
      ACCEPTED="$("$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["accepted"])' "$RESULT")"
      VERIFY="$("$PY" bench/bench_db.py verify-webhook "$ACCEPTED" "$target" "$conns")" || STATUS=1
      echo "$target c=$conns round=$round $RESULT verify=$VERIFY" | tee -a "$SUMMARY"
    done
  done
done
fresh_state

"$PY" - "$SUMMARY" <<'PYEOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    target, conns, _round, rest = line.split(" ", 3)
    result, verify = rest.split(" verify=")
    runs.setdefault((target, int(conns[2:])), []).append((json.loads(result), json.loads(verify)))
print("\n medians of each target's runs (latency from the median-throughput run)")
print(" target    conns      req/s    p50 ms   p90 ms   p99 ms   errors  lost  doubled  runs")
medians = {}
for (target, conns), rows in sorted(runs.items(), key=lambda kv: (kv[0][1], kv[0][0] != "imperium")):
    rows.sort(key=lambda r: r[0]["rps"])
    mid = rows[len(rows) // 2][0]
    medians[(target, conns)] = statistics.median(r[0]["rps"] for r in rows)
    errors = sum(r[0]["non_200"] + r[0]["socket_errors"] for r in rows)
    print(f" {target:<9} {conns:>5} {medians[(target, conns)]:>10.0f} {mid['p50_ms']:>9.2f} {mid['p90_ms']:>8.2f} {mid['p99_ms']:>8.2f}"
          f" {errors:>8} {sum(r[1]['lost'] for r in rows):>5} {sum(r[1]['doubled'] for r in rows):>8} {len(rows):>5}")
for conns in sorted({c for _, c in medians}):
    if ("imperium", conns) in medians and ("bare", conns) in medians:
        print(f" ratio imperium/bare at {conns} connections: {medians[('imperium', conns)] / medians[('bare', conns)]:.2f}")
PYEOF
exit $STATUS
