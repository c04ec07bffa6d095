"""Settings for the test suite: the real settings, with test-only state kept under var/test."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
# A Prometheus multiprocess folder of this test process (and the live processes it starts, which
# inherit the variable and load imperium.settings), so /metrics in a test shows no other
# pytest-xdist worker's counters. Never shared, so never emptied under a running process.
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="imperium-test-metrics-")

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
