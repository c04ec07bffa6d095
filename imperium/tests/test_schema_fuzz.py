"""Schemathesis against a live gunicorn (the WSGI application with the webhook fast path, as in
production): every operation of the served /api/schema/ gets bounded generated requests, valid and
invalid, as four callers:

- anonymous (no credentials at all);
- with the credentials each operation documents: the admin token for operator endpoints, a
  Standard Webhooks signature over the exact bytes sent for /webhook (docs/CONTRACTS.md), the
  Telegram secret header, the CI webhook's HMAC;
- a staff superuser's session cookie (no CSRF token: a POST is refused with the documented 403);
- a logged-in user who is not staff.

Every answer must be documented for its operation (status code, content type, body schema) and no
answer may be a 5xx other than a documented one. Undocumented methods answer a JSON 405 with
`Allow`, unknown URLs a JSON 404, on the fast path too.

Schemathesis' pytest plugin does not run under this pytest version: hypothesis drives its
strategies directly (`operation.as_strategy`), and each case is sent with `requests` so the body
can be signed as sent, then checked with `case.validate_response`.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from conversations.signing import sign
from conversations.testing.live import LiveWeb
from imperium.telegram.testing.pytest_fixtures import ALERT_CHAT_ID, BOT_TOKEN, WEBHOOK_SECRET
from releases.ci import sign as ci_sign
from tenants.tests.factories import ClientFactory, UserFactory

ADMIN_TOKEN = "schemathesis-admin-token"
CI_SECRET = "schemathesis-ci-secret"
EXAMPLES = 4  # per operation, caller and mode: 12 operations x 4 callers x 2 modes x 4 ≈ 400 requests
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                   database=None, phases=[Phase.explicit, Phase.generate])
# Everything the live server needs is up (Postgres, Redis, the fake Bot API), so no 5xx at all is
# acceptable here, not even a documented 502/503.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _session_cookie(user: Any) -> str:
    from django.conf import settings as django_settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = django_settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


class Caller:
    def __init__(self, name: str, *, web: LiveWeb, tenant: Any = None, incident: int | None = None,
                 cookie: str | None = None) -> None:
        self.name, self.web, self.tenant, self.incident, self.cookie = name, web, tenant, incident, cookie
        self.http = requests.Session()
        self.statuses: dict[str, set[int]] = {}
        self.requests = 0
        self.bodies: dict[tuple[str, int], str] = {}  # the last body of each (operation, status), for messages

    @property
    def credentialed(self) -> bool:
        return self.tenant is not None

    def path_parameters(self, operation: Any) -> dict[str, Any] | None:
        if not self.credentialed:
            return None
        if "{client_slug}" in operation.path:
            return {"client_slug": self.tenant.slug}
        if "{incident_id}" in operation.path:
            return {"incident_id": self.incident}
        return None

    def send(self, case: Any) -> requests.Response:
        if self.credentialed and case.path == "/webhook" and isinstance(case.body, dict):
            case.body["client_slug"] = self.tenant.slug
        kwargs = case.as_transport_kwargs(base_url=self.web.url)
        if "json" in kwargs:
            kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
        elif isinstance(kwargs.get("data"), str):
            kwargs["data"] = kwargs["data"].encode()
        body = kwargs.get("data") if isinstance(kwargs.get("data"), bytes) else b""
        headers = kwargs.setdefault("headers", {})
        if self.cookie:
            kwargs["cookies"] = {**(kwargs.get("cookies") or {}), "sessionid": self.cookie}
        if self.credentialed:
            if case.path.startswith("/webhook"):
                msg_id, timestamp = f"msg_fuzz_{time.monotonic_ns()}", str(int(time.time()))
                headers.update({"webhook-id": msg_id, "webhook-timestamp": timestamp,
                                "webhook-signature": sign(self.tenant.settings.webhook_secret, msg_id, timestamp, body)})
            elif case.path == "/telegram-webhook":
                headers["X-Telegram-Bot-Api-Secret-Token"] = WEBHOOK_SECRET
            elif case.path == "/releases/ci-webhook":
                headers["X-Hub-Signature-256"] = ci_sign(body, CI_SECRET)
            else:
                headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        response = self.http.request(timeout=30, **kwargs)
        self.statuses.setdefault(f"{case.method} {case.path}", set()).add(response.status_code)
        self.requests += 1
        self.bodies[(f"{case.method} {case.path}", response.status_code)] = response.text[:200]
        return response


def _fuzz(api: Any, caller: Caller) -> list[str]:
    failures: list[str] = []
    for result in api.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=caller.path_parameters(operation))

            @given(case=strategy)
            @BOUNDED
            def run(case: Any) -> None:
                response = caller.send(case)
                case.validate_response(response, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # No parameters and no body: nothing can be made invalid (GET /health, /db-check).
                assert mode is schemathesis.GenerationMode.NEGATIVE and not operation.body and not any(
                    True for _ in operation.iter_parameters()), operation.path
            except Exception as exc:  # every operation is tried; the failures are reported together
                failures.append(f"[{caller.name} {mode.value}] {operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    return failures


@pytest.fixture
def live(tmp_path, fake_bot_api, transactional_db):
    with LiveWeb(tmp_path, workers=2, ADMIN_API_TOKEN=ADMIN_TOKEN, CI_WEBHOOK_SECRET=CI_SECRET,
                 TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET, TELEGRAM_API_URL=fake_bot_api.url, ALERT_BOT_TOKEN=BOT_TOKEN,
                 ALERT_CHAT_ID=ALERT_CHAT_ID, TELEGRAM_TIMEOUT="2", LOG_LEVEL="warning",
                 DEBUG="false", ALLOWED_HOSTS="127.0.0.1").start() as web:  # production: no debug pages
        yield web


def test_generated_requests_get_only_documented_answers(live):
    from incidents.services import incident_open

    tenant = ClientFactory(slug="fuzz-salon")
    incident = incident_open(fingerprint="schema.fuzz", kind="schema.fuzz", title="Проверка схемы", tenant=tenant)[0].pk
    api = schemathesis.openapi.from_url(f"{live.url}/api/schema/?format=json")
    callers = [
        Caller("anonymous", web=live),
        Caller("credentials", web=live, tenant=tenant, incident=incident),
        Caller("superuser-session", web=live, cookie=_session_cookie(UserFactory(username="fuzz-root", is_superuser=True))),
        Caller("not-staff-session", web=live, cookie=_session_cookie(UserFactory(username="fuzz-user", is_staff=False))),
    ]
    failures = [failure for caller in callers for failure in _fuzz(api, caller)]
    assert not failures, "\n\n".join(failures)

    assert all(caller.requests >= 60 for caller in callers), [caller.requests for caller in callers]
    operations = {f"{op.ok().method.upper()} {op.ok().path}" for op in api.get_all_operations()}
    assert len(operations) >= 12 and "POST /webhook/{client_slug}" in operations
    anonymous, credentialed, superuser = callers[0].statuses, callers[1].statuses, callers[2].statuses
    # The runs reached past authentication: signed webhooks were accepted, tokens and sessions let
    # callers in, and nobody got in without them.
    assert 200 in credentialed["POST /webhook/{client_slug}"] and 200 in credentialed["POST /webhook"], callers[1].bodies
    assert 200 in credentialed["POST /telegram-webhook"] and 200 in credentialed["POST /reminders/process"]
    assert 200 in credentialed["GET /incidents/{incident_id}/rca"]
    assert 200 in superuser["GET /admin/health"] or 503 in superuser["GET /admin/health"]
    assert superuser["POST /reminders/process"] == {403}  # a session POST without a CSRF token
    for name in ("POST /admin/outbox/process", "POST /reminders/process", "GET /admin/health", "POST /alerts/test"):
        assert not anonymous[name] & {200, 502, 503}, (name, anonymous[name])
    assert not anonymous["POST /webhook/{client_slug}"] & {200}


def test_undocumented_methods_and_unknown_urls_answer_json_on_the_live_server(live):
    schema = requests.get(f"{live.url}/api/schema/?format=json", timeout=10).json()
    for path, operations in schema["paths"].items():
        concrete = path.replace("{client_slug}", "some-salon").replace("{incident_id}", "1")
        documented = {method.upper() for method in operations}
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - documented):
            # With the token: DRF authenticates before it looks at the method (anonymous → 401, documented).
            answer = requests.request(method, live.url + concrete, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
            assert answer.status_code == 405, (method, path, answer.status_code)
            assert answer.headers["Content-Type"].startswith("application/json"), (method, path)
            assert documented <= {m.strip() for m in answer.headers["Allow"].split(",")}, (method, path)
    for url in ("/webhook/%14", "/webhook/a/b", "/nothing-here", "/incidents/x/rca"):
        answer = requests.post(live.url + url, data=b"{}", timeout=10)
        assert answer.status_code == 404 and answer.json() == {"error": "not found"}, (url, answer.status_code, answer.text[:200])
