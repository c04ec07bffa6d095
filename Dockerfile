# Imperium image: web (gunicorn), Celery worker and beat all run from this one image.
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

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
ARG APP_VERSION=dev
ENV APP_VERSION=${APP_VERSION}
# collectstatic needs settings to load; DEBUG lets it generate throwaway keys into a build-only folder.
RUN DEBUG=true VAR_DIR=/tmp/build python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build \
    && mkdir -p /app/var && chown -R imperium /app/var

ENV DEBUG=false
USER imperium
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD curl -fsS http://127.0.0.1:8000/health || exit 1

# Loud startup: refuse to start when a configured service is unreachable.
CMD ["sh", "-c", "python manage.py check --tag services --database default && gunicorn imperium.wsgi:application --config gunicorn.conf.py --bind 0.0.0.0:8000"]
