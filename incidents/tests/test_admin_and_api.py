"""Incident admin pages, RCA JSON, the operator API and /admin/health: who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from imperium.core.models import AuditLog
from incidents.checks import Observation
from incidents.choices import IncidentStatus
from incidents.errors import error_log_record
from incidents.models import CheckResult, Incident, IncidentEvent
from incidents.services import incident_observe

pytestmark = pytest.mark.django_db
TOKEN = {"HTTP_AUTHORIZATION": "Bearer test-admin-token"}


@pytest.fixture
def incidents(tenant_a, tenant_b):
    error_log_record(where="chatflow.send", message="ChatFlow answered 502 for alpha", tenant=tenant_a)
    error_log_record(where="chatflow.send", message="ChatFlow answered 502 for bravo", tenant=tenant_b)
    made = {}
    for name, tenant in (("a", tenant_a), ("b", tenant_b), ("system", None)):
        target = tenant.slug if tenant else ""
        for _ in range(2):
            incident_observe(observation=Observation(check="chatflow", ok=False, detail=f"down for {target or 'all'}", target=target,
                                                     tenant_id=tenant.pk if tenant else None))
        made[name] = Incident.objects.get(fingerprint=f"chatflow:{target}" if target else "chatflow")
    return made


def test_an_operator_sees_only_their_tenants_incidents(login, operator_a, incidents):
    client = login(operator_a)
    page = client.get(reverse("admin:incidents_incident_changelist"))
    assert page.status_code == 200
    shown = {row.pk for row in page.context["cl"].result_list}
    assert shown == {incidents["a"].pk}
    assert client.get(reverse("admin:incidents_incident_change", args=[incidents["b"].pk])).status_code == 302
    assert client.get(reverse("admin:incidents_incident_change", args=[incidents["system"].pk])).status_code == 302
    assert client.get(reverse("admin:incidents_incident_rca", args=[incidents["b"].pk])).status_code == 404
    assert client.get(reverse("admin:incidents_incident_rca", args=[incidents["system"].pk])).status_code == 404
    events = {e.incident_id for e in client.get(reverse("admin:incidents_incidentevent_changelist")).context["cl"].result_list}
    assert events == {incidents["a"].pk}
    results = {r.tenant_id for r in client.get(reverse("admin:incidents_checkresult_changelist")).context["cl"].result_list}
    assert results == {operator_a.tenant_memberships.get().client_id}
    assert client.get(reverse("admin:incidents_sentinelrun_changelist")).status_code == 403


def test_the_incident_page_shows_the_rca_and_its_json(login, operator_a, incidents):
    client = login(operator_a)
    page = client.get(reverse("admin:incidents_incident_change", args=[incidents["a"].pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "RCA bundle" in body and "ChatFlow answered 502 for alpha" in body and "ChatFlow answered 502 for bravo" not in body
    data = client.get(reverse("admin:incidents_incident_rca", args=[incidents["a"].pk])).json()
    assert data["incident"]["tenant"] == "alpha" and data["error_logs"]["total"] == 1
    assert [e["kind"] for e in data["timeline"]] == ["opened", "alert_sent"]


def test_an_operator_acknowledges_and_resolves_from_the_page(login, operator_a, incidents):
    client = login(operator_a)
    incident = incidents["a"]
    assert client.post(reverse("admin:incidents_incident_acknowledge", args=[incident.pk])).status_code == 302
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED and incident.acknowledged_by == "op-a"
    assert AuditLog.objects.filter(action="policy.executed", payload__action="incident.acknowledge").exists()
    client.post(reverse("admin:incidents_incident_resolve", args=[incident.pk]), {"note": "перезапустили шлюз"})
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == "op-a"
    # Someone else's incident: the same URLs change nothing.
    client.post(reverse("admin:incidents_incident_resolve", args=[incidents["b"].pk]))
    assert Incident.objects.get(pk=incidents["b"].pk).status == IncidentStatus.OPEN


def test_a_superuser_sees_system_incidents(login, superuser, incidents):
    page = login(superuser).get(reverse("admin:incidents_incident_changelist"))
    assert {row.pk for row in page.context["cl"].result_list} == {i.pk for i in incidents.values()}
    assert login(superuser).get(reverse("admin:incidents_sentinelrun_changelist")).status_code == 200


def test_the_operator_api_exports_the_bundle_to_whoever_may_see_it(client, login, operator_a, incidents):
    response = client.get(f"/incidents/{incidents['b'].pk}/rca", **TOKEN)
    assert response.status_code == 200 and response.json()["incident"]["tenant"] == "bravo"
    assert client.get(f"/incidents/{incidents['a'].pk}/rca").status_code in (401, 403)
    session = login(operator_a)
    assert session.get(f"/incidents/{incidents['a'].pk}/rca").status_code == 200
    assert session.get(f"/incidents/{incidents['b'].pk}/rca").status_code == 404
    assert session.get("/incidents/999999/rca").status_code == 404


def test_the_operator_api_acknowledges(client, incidents):
    response = client.post(f"/incidents/{incidents['system'].pk}/acknowledge", **TOKEN)
    assert response.status_code == 200 and response.json()["changed"] is True
    assert client.post(f"/incidents/{incidents['system'].pk}/acknowledge", **TOKEN).json()["changed"] is False
    event = IncidentEvent.objects.get(incident=incidents["system"], kind="acknowledged")
    assert event.source == "api" and event.actor_kind == "api"


def test_the_openapi_schema_documents_the_incident_endpoints(client):
    schema = client.get("/api/schema/?format=json").json()
    assert "/incidents/{incident_id}/rca" in schema["paths"]
    assert "/incidents/{incident_id}/acknowledge" in schema["paths"]


def test_admin_health_shows_the_sentinel_heartbeat(client, settings, time_machine):
    from incidents.sentinel import sentinel_run

    body = client.get("/admin/health", **TOKEN).json()
    assert body["checks"]["sentinel"]["configured"] is False and "sentinel" not in body["failing"]

    time_machine.move_to(timezone.now())
    settings.SENTINEL_CHECKS = ["incidents.checks.system.DatabaseCheck"]
    sentinel_run()
    body = client.get("/admin/health", **TOKEN).json()
    assert body["checks"]["sentinel"]["ok"] is True and body["checks"]["sentinel"]["extra"]["last_run_at"]

    time_machine.shift(timedelta(seconds=settings.SENTINEL_STALE_SECONDS + 5))
    response = client.get("/admin/health", **TOKEN)
    assert response.status_code == 503 and "sentinel" in response.json()["failing"]
    assert "stale" in response.json()["checks"]["sentinel"]["detail"]
    assert CheckResult.objects.filter(fingerprint="database").exists()
