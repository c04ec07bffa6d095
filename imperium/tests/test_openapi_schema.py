"""The OpenAPI schema tells the truth (issues 15.7 and 16.5).

- `spectacular --validate --fail-on-warn` passes;
- every documented response (operation × status code) is produced by a real request here, and its
  body validates against the documented schema (strictly: every returned field documented, every
  required one returned, nullability as documented);
- every documented response has a JSON body schema, so no status is "documented by name only";
- every method a path does not document answers 405 with a JSON body and an `Allow` header, and an
  unknown URL answers a JSON 404.

The generated counterpart (schemathesis against a live gunicorn) is `test_schema_fuzz.py`.
"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from django.test import Client as HttpClient

from conversations.signing import signed_headers
from imperium.telegram.testing.pytest_fixtures import WEBHOOK_SECRET
from imperium.telegram.testing.updates import message_update
from releases.ci import sign as ci_sign
from tenants.tests.factories import UserFactory

ADMIN_TOKEN = "schema-truth-admin-token"
TOKEN = {"HTTP_AUTHORIZATION": f"Bearer {ADMIN_TOKEN}"}
JSON = {"content_type": "application/json"}
CI_SECRET = "schema-truth-ci-secret"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def json_schema(schema: dict[str, Any], node: Any) -> Any:
    """The OpenAPI 3.0 schema `node` as a standalone JSON Schema: references inlined, `nullable`
    as a null alternative, objects with declared properties closed to undeclared ones."""
    if isinstance(node, list):
        return [json_schema(schema, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(schema, schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    out = {key: json_schema(schema, value) for key, value in node.items() if key not in ("nullable", "readOnly", "writeOnly")}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def documented_responses(schema: dict[str, Any]) -> set[tuple[str, str, int]]:
    return {(method, path, int(status)) for path, operations in schema["paths"].items()
            for method, operation in operations.items() for status in operation["responses"]}


def assert_conforms(schema: dict[str, Any], method: str, path: str, status: int, response: Any) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered undocumented {status}: {response.content[:300]!r}"
    content = responses[str(status)]["content"]
    if "text/plain" in content:  # /metrics: Prometheus text
        assert response["Content-Type"].startswith("text/plain"), (method, path, status, response["Content-Type"])
        assert content["text/plain"]["schema"] == {"type": "string"} and response.content.decode()
        return
    assert response["Content-Type"].startswith("application/json"), (method, path, status, response["Content-Type"])
    documented = content["application/json"]["schema"]
    body = json.loads(response.content)
    try:
        jsonschema.validate(body, json_schema(schema, documented))
    except jsonschema.ValidationError as exc:
        raise AssertionError(f"{method.upper()} {path} {status}: body {body!r} does not match the schema: {exc.message}") from None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Ctx:
    """What the scenarios need: clients for each persona and the objects they act on."""

    def __init__(self, settings: Any, tenant: Any, operator: Any, bot: Any) -> None:
        self.settings, self.tenant, self.bot = settings, tenant, bot
        self.anonymous = HttpClient()
        self.operator = HttpClient()
        self.operator.force_login(operator)
        self.not_staff = HttpClient()
        self.not_staff.force_login(UserFactory(username="schema-not-staff", is_staff=False))
        self._incident: int | None = None

    @property
    def incident(self) -> int:
        if self._incident is None:
            from incidents.services import incident_open

            self._incident = incident_open(fingerprint="schema.truth", kind="schema.truth", title="Проверка схемы")[0].pk
        return self._incident

    def webhook(self, path: str, payload: dict[str, Any] | None = None, *, raw: bytes | None = None, signed: bool = True,
                secret: str | None = None) -> Any:
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = signed_headers(secret or self.tenant.settings.webhook_secret, body) if signed else {}
        meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "content-type"}
        return self.anonymous.post(path, body, content_type="application/json", **meta)

    def message(self, **extra: Any) -> dict[str, Any]:
        return {"message_id": f"wamid.schema-{len(extra)}-{id(extra)}", "from": "+77010000001", "type": "text",
                "text": "Сколько стоит маникюр?", "timestamp": 1764150000, **extra}

    def ci(self, body: bytes, *, event: str = "", signature: str | None = None) -> Any:
        signature = ci_sign(body, CI_SECRET) if signature is None else signature
        return self.anonymous.post("/releases/ci-webhook", body, content_type="application/json",
                                   HTTP_X_HUB_SIGNATURE_256=signature, HTTP_X_GITHUB_EVENT=event)

    def telegram(self, body: bytes, *, secret: str = WEBHOOK_SECRET) -> Any:
        return self.anonymous.post("/telegram-webhook", body, content_type="application/json",
                                   HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=secret)


def _alert_refused(ctx: Ctx) -> Any:
    ctx.bot.fail_next(400, method="sendMessage", description="Bad Request: chat not found")
    return ctx.anonymous.post("/alerts/test", {"text": "проверка"}, **JSON, **TOKEN)


def _alert_not_configured(ctx: Ctx) -> Any:
    ctx.settings.ALERT_BOT_TOKEN = ""
    return ctx.anonymous.post("/alerts/test", {"text": "проверка"}, **JSON, **TOKEN)


def _admin_health_degraded(ctx: Ctx) -> Any:
    ctx.settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    ctx.settings.HEALTH_CHECK_TIMEOUT = 0.5
    return ctx.anonymous.get("/admin/health", **TOKEN)


def _slug_in_body(ctx: Ctx, **extra: Any) -> dict[str, Any]:
    return ctx.message(client_slug=ctx.tenant.slug, **extra)


# (method, path, status) → the request that produces it. db-check's 503 needs the database down
# for a whole process: `test_db_check_and_admin_health_answer_503_with_the_database_down`.
SCENARIOS: dict[tuple[str, str, int], Callable[[Ctx], Any]] = {
    ("get", "/health", 200): lambda c: c.anonymous.get("/health"),
    ("get", "/db-check", 200): lambda c: c.anonymous.get("/db-check"),
    ("get", "/metrics", 200): lambda c: c.anonymous.get("/metrics"),
    ("get", "/metrics", 401): lambda c: (setattr(c.settings, "METRICS_TOKEN", "schema-metrics-token"), c.anonymous.get("/metrics"))[1],
    ("get", "/admin/health", 200): lambda c: c.anonymous.get("/admin/health", **TOKEN),
    ("get", "/admin/health", 401): lambda c: c.anonymous.get("/admin/health"),
    ("get", "/admin/health", 403): lambda c: c.not_staff.get("/admin/health"),
    ("get", "/admin/health", 503): _admin_health_degraded,
    ("post", "/admin/outbox/process", 200): lambda c: c.anonymous.post("/admin/outbox/process", {}, **JSON, **TOKEN),
    ("post", "/admin/outbox/process", 400): lambda c: c.anonymous.post("/admin/outbox/process", {"inline": "maybe", "limit": 0},
                                                                       **JSON, **TOKEN),
    ("post", "/admin/outbox/process", 401): lambda c: c.anonymous.post("/admin/outbox/process"),
    ("post", "/admin/outbox/process", 403): lambda c: c.operator.post("/admin/outbox/process"),
    ("post", "/admin/outbox/process", 415): lambda c: c.anonymous.post("/admin/outbox/process", "inline=1", content_type="text/plain",
                                                                       **TOKEN),
    ("post", "/reminders/process", 200): lambda c: c.anonymous.post("/reminders/process", **TOKEN),
    ("post", "/reminders/process", 401): lambda c: c.anonymous.post("/reminders/process"),
    ("post", "/reminders/process", 403): lambda c: c.operator.post("/reminders/process"),
    ("post", "/alerts/test", 200): lambda c: c.anonymous.post("/alerts/test", {"text": "проверка"}, **JSON, **TOKEN),
    ("post", "/alerts/test", 400): lambda c: c.anonymous.post("/alerts/test", {"tenant": 5}, **JSON, **TOKEN),
    ("post", "/alerts/test", 401): lambda c: c.anonymous.post("/alerts/test", {}, **JSON),
    ("post", "/alerts/test", 403): lambda c: c.operator.post("/alerts/test", {}, **JSON),
    ("post", "/alerts/test", 404): lambda c: c.anonymous.post("/alerts/test", {"tenant": "no-such-tenant"}, **JSON, **TOKEN),
    ("post", "/alerts/test", 415): lambda c: c.anonymous.post("/alerts/test", "text", content_type="text/plain", **TOKEN),
    ("post", "/alerts/test", 502): _alert_refused,
    ("post", "/alerts/test", 503): _alert_not_configured,
    ("get", "/incidents/{incident_id}/rca", 200): lambda c: c.anonymous.get(f"/incidents/{c.incident}/rca", **TOKEN),
    ("get", "/incidents/{incident_id}/rca", 401): lambda c: c.anonymous.get(f"/incidents/{c.incident}/rca"),
    ("get", "/incidents/{incident_id}/rca", 403): lambda c: c.not_staff.get(f"/incidents/{c.incident}/rca"),
    ("get", "/incidents/{incident_id}/rca", 404): lambda c: c.anonymous.get("/incidents/987654321/rca", **TOKEN),
    ("post", "/incidents/{incident_id}/acknowledge", 200): lambda c: c.anonymous.post(f"/incidents/{c.incident}/acknowledge", **TOKEN),
    ("post", "/incidents/{incident_id}/acknowledge", 401): lambda c: c.anonymous.post(f"/incidents/{c.incident}/acknowledge"),
    ("post", "/incidents/{incident_id}/acknowledge", 403): lambda c: c.not_staff.post(f"/incidents/{c.incident}/acknowledge"),
    ("post", "/incidents/{incident_id}/acknowledge", 404): lambda c: c.operator.post(f"/incidents/{c.incident}/acknowledge"),
    ("post", "/releases/ci-webhook", 200): lambda c: c.ci(b'{"zen": "Keep it logically awesome."}', event="ping"),
    ("post", "/releases/ci-webhook", 400): lambda c: c.ci(b"not json"),
    ("post", "/releases/ci-webhook", 401): lambda c: c.ci(b'{"status": "passed"}', signature="sha256=00"),
    ("post", "/releases/ci-webhook", 503): lambda c: (setattr(c.settings, "CI_WEBHOOK_SECRET", ""), c.ci(b"{}"))[1],
    ("post", "/telegram-webhook", 200): lambda c: c.telegram(json.dumps(message_update("/status")).encode()),
    ("post", "/telegram-webhook", 400): lambda c: c.telegram(b"[null,null]"),
    ("post", "/telegram-webhook", 403): lambda c: c.telegram(b"{}", secret="wrong"),
    ("post", "/webhook/{client_slug}", 200): lambda c: c.webhook(f"/webhook/{c.tenant.slug}", c.message()),
    ("post", "/webhook/{client_slug}", 400): lambda c: c.webhook(f"/webhook/{c.tenant.slug}", raw=b'{"message_id": "m", "x": NaN}'),
    ("post", "/webhook/{client_slug}", 401): lambda c: c.webhook(f"/webhook/{c.tenant.slug}", c.message(), signed=False),
    ("post", "/webhook/{client_slug}", 404): lambda c: c.webhook("/webhook/no-such-tenant", c.message()),
    ("post", "/webhook/{client_slug}", 413): lambda c: c.webhook(f"/webhook/{c.tenant.slug}", c.message(text="а" * 40_000)),
    ("post", "/webhook", 200): lambda c: c.webhook("/webhook", _slug_in_body(c)),
    ("post", "/webhook", 400): lambda c: c.webhook("/webhook", c.message()),  # signed, but no client_slug
    ("post", "/webhook", 401): lambda c: c.webhook("/webhook", _slug_in_body(c), secret="whsec_" + "QUJD" * 8),
    ("post", "/webhook", 404): lambda c: c.webhook("/webhook", c.message(client_slug="no-such-tenant")),
    ("post", "/webhook", 413): lambda c: c.webhook("/webhook", _slug_in_body(c, text="а" * 40_000)),
}
PROCESS_LEVEL = {("get", "/db-check", 503)}


def test_every_documented_response_has_a_scenario_and_a_json_body_schema(schema):
    documented = documented_responses(schema)
    assert documented - PROCESS_LEVEL == set(SCENARIOS), (
        f"documented without a scenario: {sorted(documented - PROCESS_LEVEL - set(SCENARIOS))}; "
        f"scenarios for undocumented responses: {sorted(set(SCENARIOS) - documented)}")
    for method, path, status in documented:
        response = schema["paths"][path][method]["responses"][str(status)]
        media = set(response.get("content", {}))
        assert media == {"application/json"} or (path == "/metrics" and media == {"text/plain"}), (
            f"{method.upper()} {path} {status} documents {media or 'no body'}")


@pytest.fixture
def ctx(settings, tenant_a, operator_a, telegram_bot):
    settings.ADMIN_API_TOKEN = ADMIN_TOKEN
    settings.CI_WEBHOOK_SECRET = CI_SECRET
    return Ctx(settings, tenant_a, operator_a, telegram_bot)


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(SCENARIOS), ids=lambda key: f"{key[0].upper()} {key[1]} {key[2]}")
def test_the_view_answers_the_documented_response(schema, ctx, key, monkeypatch):
    monkeypatch.setattr("conversations.dispatch._publish", lambda *args, **kwargs: None)  # no broker needed for an accepted message
    method, path, status = key
    response = SCENARIOS[key](ctx)
    assert response.status_code == status, f"{method.upper()} {path}: {response.status_code} {response.content[:300]!r}"
    assert_conforms(schema, method, path, status, response)


@pytest.mark.django_db
def test_undocumented_methods_answer_405_json_with_allow(schema, ctx):
    for path, operations in schema["paths"].items():
        concrete = path.replace("{client_slug}", ctx.tenant.slug).replace("{incident_id}", str(ctx.incident))
        documented = {method for method in operations if method in HTTP_METHODS}
        for method in sorted(set(HTTP_METHODS) - documented):
            response = getattr(ctx.anonymous, method)(concrete, **TOKEN)
            assert response.status_code == 405, f"{method.upper()} {path}: {response.status_code}"
            assert response["Content-Type"].startswith("application/json"), (method, path)
            assert "error" in json.loads(response.content), (method, path)
            allowed = {m.strip().lower() for m in response["Allow"].split(",")}
            assert documented <= allowed, (method, path, response["Allow"])


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/webhook/%14", "/no-such-page", "/incidents/x/rca", "/api/nothing"])
def test_unknown_urls_answer_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


@pytest.mark.django_db(transaction=True)
def test_db_check_and_admin_health_answer_503_with_the_database_down(schema, tmp_path, settings):
    """A gunicorn whose database is unreachable: liveness stays 200, /db-check and /admin/health
    (admin token: no database needed to authenticate) answer 503 with their documented bodies."""
    import requests

    from conversations.testing.live import LiveWeb

    settings.ADMIN_API_TOKEN = ADMIN_TOKEN
    down = f"postgres://postgres@127.0.0.1:{_closed_port()}/nowhere"
    with LiveWeb(tmp_path, workers=1, DATABASE_URL=down, ADMIN_API_TOKEN=ADMIN_TOKEN, HEALTH_CHECK_TIMEOUT="1",
                 HEALTH_CHECK_DEADLINE="3").start() as web:
        for path, headers in (("/db-check", {}), ("/admin/health", {"Authorization": f"Bearer {ADMIN_TOKEN}"})):
            answer = requests.get(web.url + path, headers=headers, timeout=20)
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:300])
            fake = _Answer(answer)
            assert_conforms(schema, "get", path, 503, fake)
            if path == "/admin/health":
                assert "database" in answer.json()["failing"]
        assert requests.get(web.url + "/health", timeout=10).status_code == 200


class _Answer:
    """A requests response seen through the Django test response's interface used above."""

    def __init__(self, response: Any) -> None:
        self.status_code, self.content, self._headers = response.status_code, response.content, response.headers

    def __getitem__(self, name: str) -> str:
        return self._headers[name]


def test_json_schema_conversion_is_strict():
    """The checker itself fails on drift: an undocumented field, a missing field, a null where
    none is documented."""
    schema = {"components": {"schemas": {"A": {"type": "object", "properties": {"x": {"type": "integer", "nullable": True},
                                                                                 "y": {"type": "string"}},
                                               "required": ["x"]}}}}
    strict = json_schema(schema, {"$ref": "#/components/schemas/A"})
    jsonschema.validate({"x": None, "y": "s"}, strict)
    for bad in ({"x": 1, "z": 1}, {"y": "s"}, {"x": 1, "y": None}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, copy.deepcopy(strict))
