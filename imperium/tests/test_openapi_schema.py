"""The OpenAPI schema validates without warnings, and documented response bodies match what the
views return (every returned field documented, every required field returned)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.management import call_command

TOKEN = {"HTTP_AUTHORIZATION": "Bearer test-admin-token"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        node = schema["components"]["schemas"][name]
    return node


def assert_documented(schema: dict[str, Any], path: str, method: str, status: int, body: dict[str, Any]) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} returned undocumented status {status}"
    content = responses[str(status)].get("content", {}).get("application/json")
    if content is None:
        return  # documented by description only
    documented = _resolve(schema, content["schema"])
    properties = documented.get("properties", {})
    assert set(body) <= set(properties), f"{path} {status}: undocumented fields {set(body) - set(properties)}"
    assert set(documented.get("required", [])) <= set(body), f"{path} {status}: missing {set(documented['required']) - set(body)}"
    for name, value in body.items():
        field = _resolve(schema, properties[name])
        if value is None:
            assert field.get("nullable"), f"{path} {status}: {name} is null but not documented nullable"


def test_the_schema_validates_without_warnings(schema):
    assert schema["openapi"].startswith("3.") and "/health" in schema["paths"]


@pytest.mark.django_db
def test_health_answers_as_documented(client, schema):
    response = client.get("/health")
    assert_documented(schema, "/health", "get", response.status_code, response.json())


@pytest.mark.django_db
def test_alerts_test_answers_as_documented(client, schema, telegram_bot):
    response = client.post("/alerts/test", {"text": "проверка"}, content_type="application/json", **TOKEN)
    assert response.status_code == 200
    assert_documented(schema, "/alerts/test", "post", 200, response.json())
    assert {"chat_id", "telegram_status"} <= set(response.json())
