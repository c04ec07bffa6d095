"""Imperium settings: one module, every value from the environment (see .env.example).

With no environment at all the product runs embedded: SQLite under var/, local Qdrant files,
and a filesystem Celery broker. Each *_URL switches one part to a real server. The variables
outside tools rely on are a contract: docs/CONTRACTS.md "Outside services".
"""

from __future__ import annotations

import os
import re
import zoneinfo
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from imperium.celery_routes import CELERY_BEAT_SCHEDULE as _BEAT_SCHEDULE
from imperium.celery_routes import TASK_ANNOTATIONS as _TASK_ANNOTATIONS
from imperium.celery_routes import TASK_ROUTES as _TASK_ROUTES
from imperium.core.envconfig import StrictEnv, generate_django_secret, local_base_url, local_secret

BASE_DIR = Path(__file__).resolve().parent.parent
env = StrictEnv()
env.read_env_file(BASE_DIR / ".env")

VAR_DIR = Path(env.str("VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", True)
APP_VERSION = env.str("APP_VERSION", "dev")
TESTING = False  # set by the test settings overlay (imperium/test_settings.py)

# --- secrets --------------------------------------------------------------------------------
_secret_key = env.str("SECRET_KEY")
_field_keys = env.list("FIELD_ENCRYPTION_KEY")
if not DEBUG and (not _secret_key or not _field_keys):
    missing = [n for n, v in (("SECRET_KEY", _secret_key), ("FIELD_ENCRYPTION_KEY", _field_keys)) if not v]
    raise ImproperlyConfigured(f"{', '.join(missing)} must be set in the environment when DEBUG is off.")
SECRET_KEY = _secret_key or local_secret(VAR_DIR, "secret_key", generate_django_secret)
# Several comma-separated keys allow rotation: the first encrypts, all of them decrypt.
FIELD_ENCRYPTION_KEYS = _field_keys or [
    local_secret(VAR_DIR, "field_encryption_key", lambda: Fernet.generate_key().decode())
]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        Fernet(_key.encode())
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be url-safe base64 Fernet keys (32 bytes), comma-separated."
        ) from None
ADMIN_API_TOKEN = env.str("ADMIN_API_TOKEN")

# --- hosts and URLs -------------------------------------------------------------------------
# Unset, it is the address `make run` last started the web process at (var/public_base_url, written by
# bootstrap_local), so commands run from another shell reach the same PORT; else port 8000.
PUBLIC_BASE_URL = env.url("PUBLIC_BASE_URL", local_base_url(VAR_DIR) or "http://127.0.0.1:8000")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["*"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = [PUBLIC_BASE_URL.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

# --- applications ---------------------------------------------------------------------------
INSTALLED_APPS = [
    "imperium.admin_site.ImperiumAdminConfig",  # django.contrib.admin with the operators home and a grouped index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served from the package (the product runs offline)
    "simple_history",
    "django_celery_beat",
    "django_json_widget",  # the release bundle editor (its JavaScript ships in the package: no CDN)
    "imperium.core.apps.CoreConfig",
    "imperium.apps.SiteConfig",
    "tenants.apps.TenantsConfig",
    "knowledge.apps.KnowledgeConfig",
    "incidents.apps.IncidentsConfig",
    "crm.apps.CrmConfig",
    "conversations.apps.ConversationsConfig",
    "releases.apps.ReleasesConfig",
    "imperium.telegram.apps.TelegramConfig",
]

MIDDLEWARE = [
    "imperium.core.correlation.CorrelationIdMiddleware",
    # Right after the correlation id: any unhandled exception below becomes an ErrorLog with it.
    "incidents.middleware.ErrorLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything logs the URL: a phone number typed into an admin search becomes its hash.
    "conversations.middleware.PhoneSearchMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Admin pages in ADMIN_LANGUAGE (or the operator's choice) and the operator's tenants' time zone.
    "imperium.admin_locale.AdminLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "imperium.urls"
WSGI_APPLICATION = "imperium.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------------
_db = env.database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'imperium.sqlite3'}")
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions let the web process, workers and beat share one file
    # without "database is locked" errors on concurrent writes.
    _db.setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATABASE_IS_POSTGRES = _db["ENGINE"].startswith("django.db.backends.postgresql")
# Server-side prepared statements for the few hand-written hot statements (imperium.core.prepared.
# server_prepared_cursor). Set false behind a connection pooler in transaction mode that does not
# track them (PgBouncer before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", True)

# --- redis / cache --------------------------------------------------------------------------
# redis+sentinel://host1:26379,host2:26379/<master name>/<db> for Redis behind Sentinel (imperium.core.redissentinel).
REDIS_URL = env.url("REDIS_URL", "", schemes=("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel"))
# Every Redis and broker socket has a deadline: a Redis that accepts connections and never answers
# (frozen, a network black hole) must cost seconds, not hang a request or the server's start.
REDIS_CONNECT_TIMEOUT = env.float("REDIS_CONNECT_TIMEOUT", 2.0, minimum=0.05)
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", 2.0, minimum=0.05)
# The webhook's own Redis calls (dedup SET NX, the turn task's LPUSH) wait at most this long; after a
# failure Redis is skipped for REDIS_RETRY_AFTER_SECONDS (database dedup, the sweeper queues the turn).
WEBHOOK_REDIS_TIMEOUT = env.float("WEBHOOK_REDIS_TIMEOUT", 0.25, minimum=0.01)
REDIS_RETRY_AFTER_SECONDS = env.float("REDIS_RETRY_AFTER_SECONDS", 5.0, minimum=0.0)
# Every cache key starts with this (Django's KEY_PREFIX): deployments, or the test suite's live processes,
# that share one Redis database keep apart with it.
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", "")
if REDIS_URL.startswith(("redis+sentinel://", "rediss+sentinel://")):
    CACHES = {"default": {"BACKEND": "imperium.core.redissentinel.SentinelRedisCache", "LOCATION": REDIS_URL}}
elif REDIS_URL:
    # Django's RedisCache with its redis-py client kept instead of built per call (imperium/core/rediscache.py).
    CACHES = {"default": {"BACKEND": "imperium.core.rediscache.KeptClientRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHES["default"]["KEY_PREFIX"] = CACHE_KEY_PREFIX

# --- auth / i18n / static -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# The language split: the command line, logs, workers and HTTP APIs speak English (LANGUAGE_CODE,
# the default of every thread nothing activates a language in); admin pages speak ADMIN_LANGUAGE,
# activated per request by imperium.admin_locale (an operator may switch to English in the header).
LANGUAGE_CODE = "en-us"
ADMIN_LANGUAGE = env.str("ADMIN_LANGUAGE", "ru")
LANGUAGES = [("ru", "Русский"), ("en", "English")]
# Admin times are shown in the time zone of the operator's tenants (when they share one), else this.
ADMIN_TIME_ZONE = env.str("ADMIN_TIME_ZONE", "Asia/Almaty")
if ADMIN_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"ADMIN_LANGUAGE must be one of {', '.join(dict(LANGUAGES))}, not {ADMIN_LANGUAGE!r}.")
try:
    zoneinfo.ZoneInfo(ADMIN_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"ADMIN_TIME_ZONE {ADMIN_TIME_ZONE!r} is not a time zone (e.g. Asia/Almaty).") from exc
# Manager- and CEO-facing replies (the Telegram bots) are in the tenants' language: service refusals
# raised there are translated through locale/<lang>/LC_MESSAGES (manage.py compilemessages).
TELEGRAM_LANGUAGE = "ru"
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
LOGIN_URL = "/admin/login/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- HTTPS (docs/PRODUCTION.md) ---------------------------------------------------------------
# With DEBUG off and an https PUBLIC_BASE_URL: secure cookies, HSTS and a redirect of plain-HTTP
# requests to https (the health and metrics endpoints stay reachable over HTTP for probes).
SECURE_HTTPS = env.bool("SECURE_HTTPS", not DEBUG and PUBLIC_BASE_URL.startswith("https://"))
# X-Forwarded-Proto is believed only when a TLS-terminating proxy is in front and strips the
# client's own header; otherwise any client could claim https.
TRUSTED_PROXY = env.bool("TRUSTED_PROXY", False)
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if SECURE_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^db-check$", r"^metrics$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = []
if SECURE_HTTPS and not SECURE_HSTS_PRELOAD:
    # Preloading is a separate, hard-to-undo commitment (hstspreload.org); off unless asked for.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# --- REST framework / OpenAPI ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "imperium.core.exceptions.drf_exception_handler",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Imperium API",
    "DESCRIPTION": "Webhook, operations and health endpoints of the Imperium back office.",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # The webhook is a plain Django view (speed); this hook documents it in the schema.
    "PREPROCESSING_HOOKS": ["conversations.schema.add_webhook_endpoints", "imperium.core.api_schema.add_metrics_endpoint"],
    # Several bodies have a `status` with different choices: each set gets its own name.
    "ENUM_NAME_OVERRIDES": {
        "StoredStatusEnum": ["accepted", "duplicate"],
        "DeadLetterStatusEnum": ["dead_letter"],
        "DbCheckStatusEnum": ["ok", "error"],
        "AdminHealthStatusEnum": ["ok", "degraded"],
    },
    # /api/docs/ loads Swagger UI from static files (drf-spectacular-sidecar), never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Exchange declarations; kombu's default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # How often an idle consumer looks into the folder (kombu's default is 1 s).
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", 1.0, minimum=0.01),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": REDIS_SOCKET_TIMEOUT,
                                       "socket_connect_timeout": REDIS_CONNECT_TIMEOUT}
    if CELERY_BROKER_URL.startswith("sentinel://"):
        # sentinel://host1:26379;sentinel://host2:26379 — kombu asks the sentinels for this master.
        CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = env.str("CELERY_BROKER_MASTER_NAME", "mymaster")
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CONNECT_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = _TASK_ROUTES
CELERY_TASK_ANNOTATIONS = _TASK_ANNOTATIONS  # soft/hard time limits per task family (celery_routes.py)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Celery's Django fixup closes the database connection around every task unless this is set,
# which costs a new Postgres connection per task; with it, connections follow CONN_MAX_AGE and
# health checks like web requests do (imperium.core.celery_signals runs close_old_connections).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", 1000, minimum=0)
# django-celery-beat's DatabaseScheduler, touching BEAT_HEARTBEAT_FILE on every tick (imperium/beat.py).
CELERY_BEAT_SCHEDULER = "imperium.beat:HeartbeatScheduler"
BEAT_HEARTBEAT_FILE = Path(env.str("BEAT_HEARTBEAT_FILE", str(VAR_DIR / "beat.heartbeat")))
CELERY_BEAT_SCHEDULE = _BEAT_SCHEDULE
DJANGO_CELERY_BEAT_TZ_AWARE = True

# --- Qdrant / retrieval / LLM ---------------------------------------------------------------
QDRANT_URL = env.url("QDRANT_URL")
QDRANT_API_KEY = env.str("QDRANT_API_KEY")
QDRANT_COLLECTION = env.str("QDRANT_COLLECTION", "truffles_knowledge")
QDRANT_PATH = VAR_DIR / "qdrant"
QDRANT_TIMEOUT = env.float("QDRANT_TIMEOUT", 5.0, minimum=0.1)
# Shards and replicas of the collection when Imperium creates it (a Qdrant cluster; docs/SCALING.md).
QDRANT_SHARDS = env.int("QDRANT_SHARDS", 1, minimum=1)
QDRANT_REPLICAS = env.int("QDRANT_REPLICAS", 1, minimum=1)
EMBEDDINGS_BACKEND = env.choice("EMBEDDINGS_BACKEND", "hashing", ("hashing", "http"))
EMBEDDINGS_URL = env.url("EMBEDDINGS_URL")
EMBEDDINGS_TIMEOUT = env.float("EMBEDDINGS_TIMEOUT", 10.0, minimum=0.1)
if EMBEDDINGS_BACKEND == "http" and not EMBEDDINGS_URL:
    raise ImproperlyConfigured("EMBEDDINGS_BACKEND=http needs EMBEDDINGS_URL (the bge-m3 service).")
LLM_BACKEND = env.choice("LLM_BACKEND", "extractive", ("extractive", "openai"))
LLM_BASE_URL = env.url("LLM_BASE_URL")
LLM_API_KEY = env.str("LLM_API_KEY")
LLM_MODEL = env.str("LLM_MODEL")
LLM_TIMEOUT = env.float("LLM_TIMEOUT", 20.0, minimum=0.1)
LLM_RETRIES = env.int("LLM_RETRIES", 2, minimum=0)
EMBEDDINGS_MODEL = env.str("EMBEDDINGS_MODEL", "bge-m3")
EMBEDDINGS_DIM = env.int("EMBEDDINGS_DIM", 1024, minimum=1)
EMBEDDINGS_API_KEY = env.str("EMBEDDINGS_API_KEY")
EMBEDDINGS_RETRIES = env.int("EMBEDDINGS_RETRIES", 3, minimum=0)
EMBEDDINGS_BATCH_SIZE = env.int("EMBEDDINGS_BATCH_SIZE", 32, minimum=1)
# Embedded index when QDRANT_URL is empty: memory (numpy, default) | qdrant-local (qdrant-client :memory:).
KNOWLEDGE_INDEX = env.choice("KNOWLEDGE_INDEX", "memory", ("memory", "qdrant-local"))
KNOWLEDGE_HASHING_DIM = env.int("KNOWLEDGE_HASHING_DIM", 512, minimum=64)
# Wordnet relations that read a customer's word the knowledge never uses (knowledge.semantics):
# any of synonyms, hypernyms, actions, verbs, materials (comma-separated), or off.
KNOWLEDGE_LEXICAL_RELATIONS = tuple(
    r for r in env.list("KNOWLEDGE_LEXICAL_RELATIONS", ["synonyms", "hypernyms", "actions", "verbs", "materials"]) if r != "off")
if set(KNOWLEDGE_LEXICAL_RELATIONS) - {"synonyms", "hypernyms", "actions", "verbs", "materials"}:
    raise ImproperlyConfigured(
        "KNOWLEDGE_LEXICAL_RELATIONS must be off or a comma-separated list of synonyms, hypernyms, actions, verbs, materials.")
if LLM_BACKEND == "openai" and not (LLM_BASE_URL and LLM_MODEL):
    raise ImproperlyConfigured("LLM_BACKEND=openai needs LLM_BASE_URL and LLM_MODEL.")

# --- ChatFlow -------------------------------------------------------------------------------
CHATFLOW_BASE_URL = env.url("CHATFLOW_BASE_URL")
CHATFLOW_TIMEOUT = env.float("CHATFLOW_TIMEOUT", 10.0, minimum=0.1)
CHATFLOW_MAX_RETRIES = env.int("CHATFLOW_MAX_RETRIES", 3, minimum=0)
CHATFLOW_RETRY_BACKOFF = env.float("CHATFLOW_RETRY_BACKOFF", 0.5, minimum=0.0)
CHATFLOW_RETRY_MAX_DELAY = env.float("CHATFLOW_RETRY_MAX_DELAY", 20.0, minimum=0.0)
# Outages delay, they do not silence: after a run's CHATFLOW_MAX_RETRIES, a delivery that failed with
# a 5xx/429/timeout/connection error is retried from the database outbox (the sweeper) on an
# exponential schedule (DELIVERY_RETRY_BASE_SECONDS, doubling, at most DELIVERY_RETRY_MAX_INTERVAL_SECONDS
# apart) until DELIVERY_RETRY_WINDOW_SECONDS after it was written; only then it fails and is handed over.
DELIVERY_RETRY_WINDOW_SECONDS = env.int("DELIVERY_RETRY_WINDOW_SECONDS", 1800, minimum=0)
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", 5.0, minimum=0.01)
DELIVERY_RETRY_MAX_INTERVAL_SECONDS = env.float("DELIVERY_RETRY_MAX_INTERVAL_SECONDS", 300.0, minimum=0.01)
# Per-tenant circuit breaker (shared through the cache): while a tenant's gateway is failing, its other
# deliveries wait for the retry time instead of hammering it; then one delivery probes.
CHATFLOW_CIRCUIT_BREAKER = env.bool("CHATFLOW_CIRCUIT_BREAKER", True)
CHATFLOW_CIRCUIT_KEY_PREFIX = "imperium:chatflow-circuit"

# --- reply pipeline (see docs/PIPELINE.md) --------------------------------------------------
WEBHOOK_FAST_PATH = env.bool("WEBHOOK_FAST_PATH", True)
WEBHOOK_TENANT_CACHE_SECONDS = env.float("WEBHOOK_TENANT_CACHE_SECONDS", 5.0, minimum=0.0)
WEBHOOK_DEDUP_TTL_SECONDS = env.int("WEBHOOK_DEDUP_TTL_SECONDS", 86400, minimum=60)
WEBHOOK_DEDUP_KEY_PREFIX = env.str("WEBHOOK_DEDUP_KEY_PREFIX", "imperium:wh")
TURN_LEASE_SECONDS = env.int("TURN_LEASE_SECONDS", 120, minimum=5)
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", 5.0, minimum=0.5)
OUTBOX_REDISPATCH_SECONDS = env.int("OUTBOX_REDISPATCH_SECONDS", 30, minimum=1)
OUTBOX_SWEEP_BATCH = env.int("OUTBOX_SWEEP_BATCH", 500, minimum=1)
TURN_QUEUE_LATENCY_CACHE_KEY = "imperium:turn-queue-latency"  # conversations/services/queue_latency.py
TELEGRAM_CACHE_KEY_PREFIX = "telegram"  # the bot username, forum flags and the notices back-off (imperium/telegram)
# The sweeper re-notifies managers of an escalation (or a forwarded message) the notifier has not
# taken at doubling intervals, and at most this many times per tenant per minute (a cache counter).
OUTBOX_RENOTIFY_PER_TENANT_PER_MINUTE = env.int("OUTBOX_RENOTIFY_PER_TENANT_PER_MINUTE", 30, minimum=1)
OUTBOX_RENOTIFY_KEY_PREFIX = "imperium:renotify"
CONVERSATION_NOTIFIER = env.str("CONVERSATION_NOTIFIER", "imperium.telegram.notifier.TelegramNotifier")
CELERY_BEAT_SCHEDULE["conversations-outbox-sweep"]["schedule"] = OUTBOX_SWEEP_SECONDS
# Escalation SLA follow-ups (conversations/services/reminders.py; the SLA itself is per tenant).
ESCALATION_REMINDERS_MAX = env.int("ESCALATION_REMINDERS_MAX", 3, minimum=0)
REMINDERS_SWEEP_SECONDS = env.float("REMINDERS_SWEEP_SECONDS", 60.0, minimum=5.0)
CELERY_BEAT_SCHEDULE["conversations-reminders"]["schedule"] = REMINDERS_SWEEP_SECONDS

# --- salon CRM (Altegio / YCLIENTS; crm/, docs/CRM.md) --------------------------------------
CRM_TIMEOUT = env.float("CRM_TIMEOUT", 5.0, minimum=0.1)
CRM_CACHE_KEY_PREFIX = "crm"  # cache keys of CRM reads; tests give each test its own
CRM_SLOT_CACHE_SECONDS = min(env.int("CRM_SLOT_CACHE_SECONDS", 60, minimum=0), 60)  # never older than a minute
CRM_SESSION_MINUTES = env.int("CRM_SESSION_MINUTES", 30, minimum=1)
CRM_MAX_SLOTS_SHOWN = min(env.int("CRM_MAX_SLOTS_SHOWN", 4, minimum=2), 8)
CRM_WRITE_LEASE_SECONDS = env.int("CRM_WRITE_LEASE_SECONDS", 120, minimum=10)
CRM_SYNC_DAYS = env.int("CRM_SYNC_DAYS", 2, minimum=1)
CRM_SYNC_SECONDS = env.float("CRM_SYNC_SECONDS", 900.0, minimum=30.0)
CRM_VISIT_MESSAGES_SECONDS = env.float("CRM_VISIT_MESSAGES_SECONDS", 300.0, minimum=10.0)
SENTINEL_CRM_WINDOW_MINUTES = env.int("SENTINEL_CRM_WINDOW_MINUTES", 15, minimum=1)
SENTINEL_CRM_ERROR_RATE = env.float("SENTINEL_CRM_ERROR_RATE", 0.5, minimum=0.0)
SENTINEL_CRM_MIN_CALLS = env.int("SENTINEL_CRM_MIN_CALLS", 3, minimum=1)
SENTINEL_CRM_SLOW_MS = env.float("SENTINEL_CRM_SLOW_MS", 3000.0, minimum=1.0)
CELERY_BEAT_SCHEDULE["crm-records-sync"]["schedule"] = CRM_SYNC_SECONDS
CELERY_BEAT_SCHEDULE["crm-visit-messages"]["schedule"] = CRM_VISIT_MESSAGES_SECONDS

# --- Telegram -------------------------------------------------------------------------------
TELEGRAM_API_URL = env.url("TELEGRAM_API_URL", "https://api.telegram.org")
ALERT_BOT_TOKEN = env.str("ALERT_BOT_TOKEN")
ALERT_CHAT_ID = env.str("ALERT_CHAT_ID")
ALERT_TOPIC_ID = env.int("ALERT_TOPIC_ID", 0, minimum=0) or None
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET")
TELEGRAM_ADMIN_IDS = env.int_list("TELEGRAM_ADMIN_IDS")
# Daily digest (imperium/telegram/digest.py): each tenant's at DIGEST_TIME in its time zone, the
# CEO's cross-tenant one at DIGEST_TIME in TIME_ZONE.
DIGEST_ENABLED = env.bool("DIGEST_ENABLED", True)
DIGEST_TIME = env.str("DIGEST_TIME", "09:00")
if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", DIGEST_TIME):
    raise ImproperlyConfigured(f"DIGEST_TIME={DIGEST_TIME!r} is not a time of day HH:MM.")
TELEGRAM_TIMEOUT = env.float("TELEGRAM_TIMEOUT", 10.0, minimum=0.1)
# Telegram allows about 20 messages a minute into one group; more earns 429s for the whole chat.
TELEGRAM_CHAT_MESSAGES_PER_MINUTE = env.int("TELEGRAM_CHAT_MESSAGES_PER_MINUTE", 20, minimum=1)
# In a tenant chat that is a forum, open one topic per conversation (needs the bot's "Manage topics" right).
TELEGRAM_TOPIC_PER_CONVERSATION = env.bool("TELEGRAM_TOPIC_PER_CONVERSATION", True)

# --- write-risk policy ------------------------------------------------------------------
# Four eyes: whoever asked for a high-risk action cannot approve it themself. A company of one
# person turns this on to approve their own requests (still audited).
VERIFICATION_ALLOW_SELF_APPROVAL = env.bool("VERIFICATION_ALLOW_SELF_APPROVAL", False)

# --- releases / CI ----------------------------------------------------------------------
# Shared secret of POST /releases/ci-webhook (GitHub "X-Hub-Signature-256"); empty = endpoint off (503).
CI_WEBHOOK_SECRET = env.str("CI_WEBHOOK_SECRET")
# Only this GitHub Actions workflow's workflow_run events move fix proposals (empty = any workflow).
CI_WORKFLOW_NAME = env.str("CI_WORKFLOW_NAME", "ci")

# Canary analysis (docs/RELEASES.md "Canary analysis"): every CANARY_ANALYSIS_SECONDS, the turns
# canary tenants got from the canary release in the last CANARY_ANALYSIS_WINDOW_MINUTES are compared
# with those stable tenants got from the stable release. Each side needs CANARY_ANALYSIS_MIN_TURNS
# decided turns, else the result is inconclusive. The canary fails when a rate is higher than
# stable's by more than its limit (absolute: 0.10 = ten percentage points), or its p95 turn time is
# above stable's × CANARY_MAX_P95_RATIO and more than CANARY_MAX_P95_INCREASE_MS slower. A rate over
# its limit counts only when the increase is significant: its one-sided two-proportion z statistic
# is at least CANARY_MIN_Z (1.645 = 95 % confidence; 0 = the absolute limits alone); below that the
# verdict is inconclusive and the canary keeps collecting turns.
CANARY_ANALYSIS_SECONDS = env.float("CANARY_ANALYSIS_SECONDS", 300.0, minimum=10.0)
CANARY_ANALYSIS_WINDOW_MINUTES = env.int("CANARY_ANALYSIS_WINDOW_MINUTES", 60, minimum=1)
CANARY_ANALYSIS_MIN_TURNS = env.int("CANARY_ANALYSIS_MIN_TURNS", 30, minimum=1)
CANARY_MAX_QC_FAIL_INCREASE = env.float("CANARY_MAX_QC_FAIL_INCREASE", 0.10, minimum=0.0)
CANARY_MAX_ESCALATION_INCREASE = env.float("CANARY_MAX_ESCALATION_INCREASE", 0.10, minimum=0.0)
CANARY_MAX_DELIVERY_FAILURE_INCREASE = env.float("CANARY_MAX_DELIVERY_FAILURE_INCREASE", 0.05, minimum=0.0)
CANARY_MAX_ERROR_RATE_INCREASE = env.float("CANARY_MAX_ERROR_RATE_INCREASE", 0.05, minimum=0.0)
CANARY_MIN_Z = env.float("CANARY_MIN_Z", 1.645, minimum=0.0)
CANARY_MAX_P95_RATIO = env.float("CANARY_MAX_P95_RATIO", 1.5, minimum=1.0)
CANARY_MAX_P95_INCREASE_MS = env.float("CANARY_MAX_P95_INCREASE_MS", 500.0, minimum=0.0)
CELERY_BEAT_SCHEDULE["releases-canary-analysis"]["schedule"] = CANARY_ANALYSIS_SECONDS

# --- sentinel, incidents and the fixer (see docs/INCIDENTS.md) ------------------------------
SENTINEL_INTERVAL_SECONDS = env.int("SENTINEL_INTERVAL_SECONDS", 60, minimum=5)
SENTINEL_OPEN_AFTER = env.int("SENTINEL_OPEN_AFTER", 2, minimum=1)
SENTINEL_RESOLVE_AFTER = env.int("SENTINEL_RESOLVE_AFTER", 2, minimum=1)
SENTINEL_REOPEN_COOLDOWN_MINUTES = env.int("SENTINEL_REOPEN_COOLDOWN_MINUTES", 30, minimum=0)
SENTINEL_NAG_MINUTES = env.int("SENTINEL_NAG_MINUTES", 0, minimum=0)
SENTINEL_RETENTION_DAYS = env.int("SENTINEL_RETENTION_DAYS", 14, minimum=1)
SENTINEL_STALE_SECONDS = env.int("SENTINEL_STALE_SECONDS", 3 * SENTINEL_INTERVAL_SECONDS, minimum=10)
SENTINEL_SILENT_MINUTES = env.int("SENTINEL_SILENT_MINUTES", 10, minimum=1)
SENTINEL_OUTBOX_MAX_AGE_SECONDS = env.int("SENTINEL_OUTBOX_MAX_AGE_SECONDS", 300, minimum=10)
SENTINEL_DELIVERY_WINDOW_MINUTES = env.int("SENTINEL_DELIVERY_WINDOW_MINUTES", 15, minimum=1)
SENTINEL_DELIVERY_FAILURE_RATE = env.float("SENTINEL_DELIVERY_FAILURE_RATE", 0.25, minimum=0.0)
SENTINEL_DELIVERY_MIN_VOLUME = env.int("SENTINEL_DELIVERY_MIN_VOLUME", 10, minimum=1)
# `chatflow`: deliveries waiting for a retry after a gateway failure for longer than this are an outage.
SENTINEL_DELIVERY_WAITING_SECONDS = env.int("SENTINEL_DELIVERY_WAITING_SECONDS", 60, minimum=1)
# `delivery.unclear_resends`: messages re-sent after an unclear outcome (a timeout, a crash mid-send)
# that the gateway did not report as duplicates, within SENTINEL_DELIVERY_WINDOW_MINUTES, at or above
# which the check fails (is the gateway still honouring Idempotency-Key?).
SENTINEL_UNCLEAR_RESENDS_MAX = env.int("SENTINEL_UNCLEAR_RESENDS_MAX", 3, minimum=1)
SENTINEL_ERROR_SPIKE_WINDOW_MINUTES = env.int("SENTINEL_ERROR_SPIKE_WINDOW_MINUTES", 5, minimum=1)
SENTINEL_ERROR_SPIKE_MIN = env.int("SENTINEL_ERROR_SPIKE_MIN", 20, minimum=1)
SENTINEL_ERROR_SPIKE_FACTOR = env.float("SENTINEL_ERROR_SPIKE_FACTOR", 3.0, minimum=1.0)
SENTINEL_RCA_LOOKBACK_MINUTES = env.int("SENTINEL_RCA_LOOKBACK_MINUTES", 30, minimum=1)
# ChatFlow status probe (GET {CHATFLOW_BASE_URL}{path}?instance_id=…); empty = judge by delivery outcomes only.
CHATFLOW_STATUS_PATH = env.str("CHATFLOW_STATUS_PATH")
FIXER_INTERVAL_SECONDS = env.int("FIXER_INTERVAL_SECONDS", 60, minimum=5)
FIXER_MAX_ATTEMPTS = env.int("FIXER_MAX_ATTEMPTS", 3, minimum=1)
FIXER_RETRY_MINUTES = env.int("FIXER_RETRY_MINUTES", 5, minimum=1)
FIXER_RESEND_MAX_AGE_MINUTES = env.int("FIXER_RESEND_MAX_AGE_MINUTES", 120, minimum=1)
# The checks the sentinel runs (dotted paths of incidents.checks.Check subclasses), in order.
SENTINEL_CHECKS = [
    "incidents.checks.system.WebHealthCheck",
    "incidents.checks.system.DatabaseCheck",
    "incidents.checks.system.RedisCheck",
    "incidents.checks.system.BrokerCheck",
    "knowledge.sentinel_checks.QdrantCheck",
    "conversations.sentinel_checks.ChatFlowCheck",
    "conversations.sentinel_checks.SilentFailureCheck",
    "conversations.sentinel_checks.OutboxBacklogCheck",
    "conversations.sentinel_checks.DeliveryFailureRateCheck",
    "conversations.sentinel_checks.UnclearResendCheck",
    "crm.sentinel_checks.CrmCheck",
    "incidents.checks.system.ErrorSpikeCheck",
    "incidents.checks.system.TelegramAlertPathCheck",
    "incidents.checks.system.SentinelHeartbeatCheck",
]
CELERY_BEAT_SCHEDULE["sentinel-run"]["schedule"] = float(SENTINEL_INTERVAL_SECONDS)
CELERY_BEAT_SCHEDULE["sentinel-run"]["options"] = {"expires": SENTINEL_INTERVAL_SECONDS}
CELERY_BEAT_SCHEDULE["incidents-fixer"]["schedule"] = float(FIXER_INTERVAL_SECONDS)
CELERY_BEAT_SCHEDULE["incidents-fixer"]["options"] = {"expires": FIXER_INTERVAL_SECONDS}

# --- logging --------------------------------------------------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOG_FORMAT = env.choice("LOG_FORMAT", "text" if DEBUG else "json", ("json", "text"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "imperium.core.logging.ContextFilter"}},
    "formatters": {
        "json": {"()": "imperium.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(correlation_id)s %(tenant)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# --- error tracking (Sentry; imperium.core.errortracking) -------------------------------------
SENTRY_DSN = env.str("SENTRY_DSN")  # empty = off
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0)

# --- health ---------------------------------------------------------------------------------
# Dotted paths of checks shown by /admin/health; later apps append theirs.
HEALTH_CHECKS = [
    "imperium.core.health.check_database",
    "imperium.core.health.check_redis",
    "imperium.core.health.check_broker",
    "knowledge.health.check_qdrant",
    "knowledge.health.check_embeddings",
    "knowledge.health.check_llm",
    "imperium.telegram.health.check_telegram",
    "incidents.health.check_sentinel",
]
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", 3.0, minimum=0.1)
# Hard deadline for all checks together (they run in parallel threads): a probe still waiting then
# is reported failed and /admin/health answers 503; gunicorn's start-up check gives up the same way.
HEALTH_CHECK_DEADLINE = env.float("HEALTH_CHECK_DEADLINE", 5.0, minimum=0.2)

# --- metrics (GET /metrics, docs/PRODUCTION.md) ---------------------------------------------
# Bearer token /metrics requires; empty = open (keep the endpoint on an internal network then).
METRICS_TOKEN = env.str("METRICS_TOKEN")
# Every process writes its counters here and /metrics sums them (prometheus_client multiprocess
# mode): web workers, Celery workers and beat of one host must share it. Set before
# prometheus_client is first imported, which reads it once.
PROMETHEUS_MULTIPROC_DIR = Path(env.str("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "metrics"))).resolve()
PROMETHEUS_MULTIPROC_DIR.mkdir(parents=True, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(PROMETHEUS_MULTIPROC_DIR)
# Files named <hostname>-<pid>: containers sharing the folder have PID namespaces of their own.
from imperium.core.metricsproc import install as _install_metrics_process_ids  # noqa: E402

_install_metrics_process_ids()
# Read from the database at scrape time (dotted paths of imperium.core.metrics.SafeCollector subclasses).
METRICS_COLLECTORS = ["conversations.metrics.OutboxCollector", "incidents.metrics.SentinelCollector"]

# --- product defaults -----------------------------------------------------------------------
DECISIONS_FILE = BASE_DIR / "docs" / "IMPERIUM_DECISIONS.yaml"

# Changes go through services (validated, audited); reverting from a history page would bypass them.
SIMPLE_HISTORY_REVERT_DISABLED = True
