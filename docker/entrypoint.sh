#!/bin/sh
# One entrypoint for every role of the image; the final process replaces this shell (exec), so
# it is PID 1 and receives SIGTERM from `docker stop` (gunicorn and Celery then stop gracefully).
#
#   entrypoint.sh web             gunicorn (after `check --tag services`: refuses to start when a
#                                 configured service is unreachable)
#   entrypoint.sh worker          Celery worker, queues $CELERY_QUEUES (default: default,stable)
#   entrypoint.sh worker-canary   Celery worker of the canary queue (node canary@<host>)
#   entrypoint.sh beat            Celery beat (the schedule touches $BEAT_HEARTBEAT_FILE every tick)
#   entrypoint.sh migrate         database migrations, then exit
#   entrypoint.sh healthcheck     the health check of the role this container started with
#   entrypoint.sh <command …>     anything else, e.g. `python manage.py sentinel --once`
set -eu

ROLE_FILE="${IMPERIUM_ROLE_FILE:-/tmp/imperium-role}"
VAR_DIR="${VAR_DIR:-/app/var}"
BEAT_HEARTBEAT_FILE="${BEAT_HEARTBEAT_FILE:-$VAR_DIR/beat.heartbeat}"
PORT="${PORT:-8000}"

remember_role() {
  printf '%s\n' "$1" > "$ROLE_FILE"
}

# Host header for the web health check: ALLOWED_HOSTS refuses 127.0.0.1 in production.
health_host() {
  if [ -n "${HEALTHCHECK_HOST:-}" ]; then
    printf '%s' "$HEALTHCHECK_HOST"
    return
  fi
  host="${PUBLIC_BASE_URL:-http://127.0.0.1:$PORT}"
  host="${host#*://}"
  host="${host%%/*}"
  printf '%s' "$host"
}

healthcheck() {
  role="$(cat "$ROLE_FILE" 2>/dev/null || echo none)"
  case "$role" in
    web)
      exec curl -fsS --max-time 5 -o /dev/null -H "Host: $(health_host)" "http://127.0.0.1:$PORT/health"
      ;;
    worker|worker-canary)
      node="worker"
      [ "$role" = worker-canary ] && node="canary"
      exec celery -A imperium inspect ping --destination "$node@$(hostname)" --timeout 5
      ;;
    beat)
      max_age="${BEAT_HEARTBEAT_MAX_AGE:-60}"
      [ -f "$BEAT_HEARTBEAT_FILE" ] || { echo "no beat heartbeat at $BEAT_HEARTBEAT_FILE"; exit 1; }
      age=$(( $(date +%s) - $(stat -c %Y "$BEAT_HEARTBEAT_FILE") ))
      if [ "$age" -gt "$max_age" ]; then
        echo "beat heartbeat is ${age}s old (max ${max_age}s)"
        exit 1
      fi
      exit 0
      ;;
    *)
      # migrate and one-off commands: nothing long-running to watch.
      exit 0
      ;;
  esac
}

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    remember_role web
    python manage.py check --tag services --database default
    exec gunicorn imperium.wsgi:application --config gunicorn.conf.py --bind "0.0.0.0:$PORT" "$@"
    ;;
  worker)
    remember_role worker
    exec celery -A imperium worker --hostname "worker@%h" --queues "${CELERY_QUEUES:-default,stable}" \
      --concurrency "${CELERY_CONCURRENCY:-4}" --loglevel "${CELERY_LOG_LEVEL:-INFO}" "$@"
    ;;
  worker-canary)
    remember_role worker-canary
    exec celery -A imperium worker --hostname "canary@%h" --queues canary \
      --concurrency "${CELERY_CONCURRENCY:-2}" --loglevel "${CELERY_LOG_LEVEL:-INFO}" "$@"
    ;;
  beat)
    remember_role beat
    rm -f "$BEAT_HEARTBEAT_FILE"
    exec celery -A imperium beat --loglevel "${CELERY_LOG_LEVEL:-INFO}" "$@"
    ;;
  migrate)
    remember_role migrate
    exec python manage.py migrate --noinput "$@"
    ;;
  healthcheck)
    healthcheck
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
