"""Secure by configuration: an https PUBLIC_BASE_URL turns on HSTS, the SSL redirect and secure
cookies; X-Forwarded-Proto counts only behind TRUSTED_PROXY."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from conversations.testing.live import ROOT

SETTINGS_DUMP = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k, None) for k in ('SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_PROXY_SSL_HEADER')}))"
)


def _production_env(tmp_path, **extra: str) -> dict[str, str]:
    """Only what DEBUG=false requires, plus `extra`; nothing from the developer's environment."""
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "imperium.settings", "VAR_DIR": str(tmp_path),
           "DEBUG": "false", "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-0123456789",
           "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_an_https_public_url(tmp_path):
    env = _production_env(tmp_path, PUBLIC_BASE_URL="https://imperium.example.com")
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_served_over_plain_http(tmp_path):
    env = _production_env(tmp_path, PUBLIC_BASE_URL="http://imperium.example.com")
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


@pytest.mark.parametrize(("extra", "expected"), [
    ({"PUBLIC_BASE_URL": "https://imperium.example.com"},
     {"SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000, "SESSION_COOKIE_SECURE": True,
      "CSRF_COOKIE_SECURE": True, "SECURE_PROXY_SSL_HEADER": None}),
    ({"PUBLIC_BASE_URL": "https://imperium.example.com", "TRUSTED_PROXY": "true"},
     {"SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"]}),
    ({"PUBLIC_BASE_URL": "http://127.0.0.1:8000"},
     {"SECURE_SSL_REDIRECT": False, "SECURE_HSTS_SECONDS": 0, "SESSION_COOKIE_SECURE": False}),
])
def test_the_environment_decides_the_https_settings(tmp_path, extra, expected):
    result = _run(["-c", SETTINGS_DUMP], _production_env(tmp_path, **extra))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert {k: values[k] for k in expected} == expected


@pytest.fixture
def https_settings(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health$", r"^db-check$", r"^metrics$"]
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = None
    return settings


@pytest.mark.django_db
def test_a_forged_forwarded_proto_is_ignored_without_a_trusted_proxy(client, https_settings):
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/health").status_code == 200  # probes over plain HTTP are exempt


@pytest.mark.django_db
def test_behind_a_trusted_proxy_https_requests_get_hsts(client, https_settings):
    https_settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
