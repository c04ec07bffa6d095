# Imperium image: web (gunicorn), Celery workers, beat and migrations all run from this one image;
# docker/entrypoint.sh picks the role (web | worker | worker-canary | beat | migrate) and execs it,
# so the server is PID 1 and stops gracefully on SIGTERM.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    VAR_DIR=/app/var

WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 imperium

# Runtime dependencies only (no honcho, pytest, ruff): exact versions with every file's hash.
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY . .
ARG APP_VERSION=dev
ENV APP_VERSION=${APP_VERSION}
# collectstatic needs settings to load; DEBUG lets it generate throwaway keys into a build-only folder.
RUN DEBUG=true VAR_DIR=/tmp/build python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build \
    && mkdir -p /app/var/metrics && chown -R imperium /app/var && chmod +x docker/entrypoint.sh

ENV DEBUG=false \
    LOG_FORMAT=json \
    GUNICORN_ACCESS_LOG=- \
    PROMETHEUS_MULTIPROC_DIR=/app/var/metrics
USER imperium
EXPOSE 8000
# The check of the role this container started with (docker/entrypoint.sh healthcheck): web asks
# /health with the public Host header, a worker answers `celery inspect ping` on its own node, beat's
# schedule heartbeat must be fresh; migrate and one-off commands are always healthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/app/docker/entrypoint.sh", "healthcheck"]

ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
