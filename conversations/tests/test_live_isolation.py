"""Live processes of concurrent tests share one Redis database (pytest-xdist workers, whose tenants have
the same ids): each test's processes get their own cache key prefix and webhook dedup prefix, so one
test's open circuit, Telegram back-off or dedup key never reaches another's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conversations.testing.live import ROOT, process_env

CACHE_DUMP = "import json, django; django.setup(); from django.conf import settings as s; print(json.dumps(s.CACHES['default']))"


def test_each_test_gets_its_own_cache_and_dedup_prefix_when_redis_is_shared(tmp_path, settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "app/tests/test_a.py::test_one (setup)")
    first = process_env(tmp_path / "web")
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "app/tests/test_a.py::test_one (call)")
    again = process_env(tmp_path / "worker")  # the same test's worker, started later in another folder
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "app/tests/test_a.py::test_two (call)")
    other = process_env(tmp_path / "web")
    for key in ("CACHE_KEY_PREFIX", "WEBHOOK_DEDUP_KEY_PREFIX"):
        assert first[key] == again[key] != other[key], key  # shared within a test, apart between tests
    assert process_env(tmp_path / "c", CACHE_KEY_PREFIX="given")["CACHE_KEY_PREFIX"] == "given"  # explicit wins
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # outside pytest: per var_dir
    assert process_env(tmp_path / "a")["CACHE_KEY_PREFIX"] != process_env(tmp_path / "b")["CACHE_KEY_PREFIX"]
    # A private Redis (a test's own redis-server) is shared with the test process as it is: no prefix.
    private = process_env(tmp_path / "a", REDIS_URL="redis://127.0.0.1:40000")
    assert "CACHE_KEY_PREFIX" not in private and "WEBHOOK_DEDUP_KEY_PREFIX" not in private


def test_cache_key_prefix_from_the_environment_prefixes_every_cache_key(tmp_path):
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "imperium.settings", "VAR_DIR": str(tmp_path),
           "REDIS_URL": "redis://127.0.0.1:6379/15"}
    dumps = [subprocess.run([sys.executable, "-c", CACHE_DUMP], cwd=ROOT, env=env | extra, capture_output=True, text=True,
                            timeout=120) for extra in ({"CACHE_KEY_PREFIX": "site-a"}, {})]
    assert all(d.returncode == 0 for d in dumps), [d.stderr for d in dumps]
    with_prefix, default = (json.loads(d.stdout.strip().splitlines()[-1]) for d in dumps)
    assert with_prefix["KEY_PREFIX"] == "site-a" and with_prefix["LOCATION"] == "redis://127.0.0.1:6379/15"
    assert default["KEY_PREFIX"] == ""
