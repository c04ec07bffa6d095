"""Settings for the test suite: the real settings, with test-only state kept under var/test."""

import os
import shutil
from pathlib import Path

os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
# One Prometheus multiprocess folder per pytest-xdist worker, emptied when the session starts, so
# /metrics in a test shows this test process (and the live processes it starts) only.
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    _metrics_dir = Path(os.environ["VAR_DIR"]) / f"metrics-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)
os.environ.setdefault("LOG_FORMAT", "text")
os.environ.setdefault("LOG_LEVEL", "warning")

from imperium.settings import *  # noqa: F403

TESTING = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ADMIN_API_TOKEN = "test-admin-token"
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Live tests run real workers and web servers against the test database, so on SQLite it must
# be a file (pytest-django adds a per-xdist-worker suffix).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}  # noqa: F405
