"""The OpenAPI schema tells the truth: schemathesis against the WSGI application gunicorn runs.

Every operation of /api/schema/ is called with generated requests (bounded: a few examples each),
without credentials and with the admin token. A 500 fails the test (a documented 502/503 —
Telegram not configured — is an answer, not a crash), and so does a status code the schema does
not document for that operation.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import status_code_conformance

TOKEN = "schemathesis-admin-token"


def _application():
    from imperium.wsgi import application

    return application


BOUNDED = settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)


@pytest.fixture
def api_schema(db):
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", _application())


@pytest.fixture(autouse=True)
def _quiet_outside_world(settings, monkeypatch):
    settings.ADMIN_API_TOKEN = TOKEN
    settings.ALERT_BOT_TOKEN = ""  # a test alert answers 503 "not configured", it never leaves the machine
    settings.ALERT_CHAT_ID = ""
    monkeypatch.setattr("conversations.dispatch._publish", lambda *args, **kwargs: None)


def _every_operation(api_schema, headers):
    # schemathesis' own pytest plugin does not run under this pytest version: hypothesis drives it directly.
    checked, failures = [], []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @BOUNDED
        def run(case):
            response = case.call(headers=headers)
            assert response.status_code != 500, f"{case.method} {case.formatted_path}: 500 {response.text[:300]}"
            case.validate_response(response, checks=[status_code_conformance])

        name = f"{operation.method.upper()} {operation.path}"
        try:
            run()
        except Exception as exc:  # every operation is tried; all the failures are reported together
            failures.append(f"{name}: {str(exc)[:600]}")
        checked.append(name)
    assert not failures, "\n\n".join(failures)
    return checked


@pytest.mark.django_db(transaction=True)
def test_anonymous_calls_get_only_documented_answers_and_no_5xx(api_schema):
    checked = _every_operation(api_schema, {})
    assert "POST /webhook/{client_slug}" in checked and len(checked) >= 10


@pytest.mark.django_db(transaction=True)
def test_admin_token_calls_get_only_documented_answers_and_no_5xx(api_schema):
    checked = _every_operation(api_schema, {"Authorization": f"Bearer {TOKEN}"})
    assert "POST /admin/outbox/process" in checked
