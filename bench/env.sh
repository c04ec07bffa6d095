# Shared environment of the benchmarks (sourced by bench/run_*.sh).
#
# BENCH_DATABASE_URL  Postgres database the benchmark owns (created if missing; its pipeline
#                     tables are emptied before each run). Default: imperium_bench on localhost.
# BENCH_REDIS_URL     Redis database the benchmark owns (FLUSHDB before and after). Default db 13.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PY:-$ROOT/.venv/bin/python}"
BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/imperium_bench}"
BENCH_REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379/13}"
BENCH_VAR="$ROOT/var/bench"
mkdir -p "$BENCH_VAR"
[ -s "$BENCH_VAR/secret_key" ] || "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$BENCH_VAR/secret_key"
[ -s "$BENCH_VAR/field_key" ] || "$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$BENCH_VAR/field_key"

export DJANGO_SETTINGS_MODULE=imperium.settings
export DATABASE_URL="$BENCH_DATABASE_URL" REDIS_URL="$BENCH_REDIS_URL" CELERY_BROKER_URL="$BENCH_REDIS_URL"
export VAR_DIR="$BENCH_VAR" DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost LOG_LEVEL=warning LOG_FORMAT=json
export SECRET_KEY="$(cat "$BENCH_VAR/secret_key")" FIELD_ENCRYPTION_KEY="$(cat "$BENCH_VAR/field_key")"
export CHATFLOW_BASE_URL="" PYTHONUNBUFFERED=1

machine_line() {
  echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/{print $2}') GB RAM," \
       "load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')"
}
