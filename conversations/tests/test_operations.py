"""POST /admin/outbox/process, the OpenAPI schema, routing and the webhook_send command."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import CommandError, call_command

from conversations.dispatch import turn_queue_for
from conversations.models import SandboxMessage, Turn
from conversations.tests.helpers import conversation_of
from imperium.celery import app
from imperium.celery_routes import CELERY_BEAT_SCHEDULE, TASK_ROUTES
from imperium.core.models import AuditLog

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)


def test_outbox_process_needs_a_company_role_or_the_admin_token(client, login, operator_a, superuser, tenant_a):
    assert client.post("/admin/outbox/process").status_code in (401, 403)
    assert client.post("/admin/outbox/process", headers={"Authorization": "Bearer wrong"}).status_code in (401, 403)
    from tenants.tests.factories import UserFactory

    not_staff = UserFactory(is_staff=False)
    assert login(not_staff).post("/admin/outbox/process").status_code == 403
    assert login(operator_a).post("/admin/outbox/process").status_code == 403  # every tenant's outbox: company-wide
    assert login(superuser).post("/admin/outbox/process").status_code == 200


def test_outbox_process_queues_due_work_and_reports_it(client, webhook, tenant_a, queued):
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        traveller.shift(40)  # the turn task was lost: nothing happened for 40 s
        response = client.post("/admin/outbox/process", headers={"Authorization": "Bearer test-admin-token"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["inline"] is False and body["report"]["turns_dispatched"] == 1
    assert [q.task for q in queued] == ["conversations.turn_run"]
    assert AuditLog.objects.filter(action="outbox.process", actor_kind="api").exists()


def test_outbox_process_inline_does_the_work_without_a_worker(client, webhook, tenant_a, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        traveller.shift(4)  # due, and queued only 4 s ago: inline processing takes it anyway
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/admin/outbox/process", {"inline": True}, content_type="application/json",
                                   headers={"Authorization": "Bearer test-admin-token"})
    assert response.json()["report"]["turns_dispatched"] == 1
    assert Turn.objects.get().status == "escalated"
    assert SandboxMessage.objects.count() == 1


def test_outbox_process_validates_its_parameters(client):
    response = client.post("/admin/outbox/process", {"limit": 0}, content_type="application/json",
                           headers={"Authorization": "Bearer test-admin-token"})
    assert response.status_code == 400


def test_every_pipeline_endpoint_is_in_the_openapi_schema(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/webhook/{client_slug}" in paths and "/webhook" in paths and "/admin/outbox/process" in paths
    webhook = paths["/webhook/{client_slug}"]["post"]
    assert {p["name"] for p in webhook["parameters"]} >= {"client_slug", "webhook-id", "webhook-timestamp", "webhook-signature"}
    assert set(webhook["responses"]) == {"200", "400", "401", "404", "413"}
    schema_name = webhook["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "from" in response.json()["components"]["schemas"][schema_name]["properties"]


def test_turns_follow_the_tenants_release_channel(tenant_a):
    from tenants.models import ClientSettings

    assert turn_queue_for(tenant_a) == "stable"
    ClientSettings.objects.filter(client=tenant_a).update(release_channel="canary")
    assert tenant_a.settings.release_channel == "stable"  # a stale copy (e.g. the webhook's tenant cache) does not decide
    assert turn_queue_for(tenant_a) == "canary"


def test_pipeline_tasks_are_routed_and_swept_by_beat():
    app.loader.import_default_modules()
    for name in ("conversations.turn_run", "conversations.turn_resume", "conversations.outbound_deliver",
                 "conversations.escalation_notify", "conversations.turn_forward_notify", "conversations.outbox_sweep"):
        assert name in app.tasks and name in TASK_ROUTES
    assert CELERY_BEAT_SCHEDULE["conversations-outbox-sweep"]["task"] == "conversations.outbox_sweep"


def test_the_sweeper_task_runs_a_sweep(webhook, tenant_a, queued):
    from conversations.tasks import outbox_sweep

    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        traveller.shift(40)
        assert outbox_sweep.apply().get()["turns_dispatched"] == 1


def test_webhook_send_refuses_an_unknown_tenant():
    with pytest.raises(CommandError, match="No tenant"):
        call_command("webhook_send", "--tenant", "nobody", "hi")


def test_webhook_send_reports_a_refused_message(tenant_a, monkeypatch):
    class Refused:
        status_code = 401
        text = '{"error": "no matching signature"}'

    sent = []
    monkeypatch.setattr("conversations.management.commands.webhook_send.requests.post",
                        lambda url, data, headers, timeout: sent.append((url, headers)) or Refused())
    with pytest.raises(CommandError, match="refused"):
        call_command("webhook_send", "--tenant", tenant_a.slug, "--url", "http://example.test", "hi", stdout=io.StringIO())
    assert sent[0][0] == f"http://example.test/webhook/{tenant_a.slug}"
    assert sent[0][1]["webhook-signature"].startswith("v1,")


def test_dead_letter_and_selectors_stay_within_the_tenant(webhook, tenant_a, tenant_b):
    from conversations import selectors

    webhook.post(tenant_a, raw=b"not json")
    webhook.post(tenant_b, text="hi")
    assert selectors.dead_letters_new(tenant=tenant_a).count() == 1
    assert selectors.dead_letters_new(tenant=tenant_b).count() == 0
    conversation = conversation_of(tenant_b)
    assert selectors.conversation_get(tenant=tenant_a, conversation_id=conversation.pk) is None
    assert selectors.conversation_get(tenant=tenant_b, conversation_id=conversation.pk) == conversation
    assert [m.text for m in selectors.recent_messages(conversation=conversation)] == ["hi"]


def test_pipeline_stats_report_outcomes_and_rates(webhook, tenant_a, tenant_b, inline, brain):
    from conversations import selectors

    brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        webhook.post(tenant_b)
        traveller.shift(3)
        with inline():
            from conversations.services import turn_run_due

            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
            turn_run_due(conversation_id=conversation_of(tenant_b).pk)
    stats = selectors.pipeline_stats(tenant_ids=[tenant_a.pk], since=T0 - timedelta(minutes=1))
    assert stats["turns"] == 1 and stats["answered"] == 1 and stats["sent"] == 1 and stats["send_failure_rate"] == 0.0
    assert stats["total_ms_p95"] is not None
    assert selectors.pipeline_stats(since=T0 - timedelta(minutes=1))["turns"] == 2


def test_turns_get_the_release_and_kb_version_their_tenant_is_served(tenant_a):
    from releases.selectors import serving_context

    kb_version, release = serving_context(tenant_a)
    from conversations.answering.decision import NO_KNOWLEDGE_SERVED

    assert kb_version is NO_KNOWLEDGE_SERVED  # no knowledge imported for this tenant
    assert release.channel == "stable" and release.version


def test_delivery_stats_cover_the_last_hours(webhook, tenant_a):
    from conversations import selectors

    webhook.post(tenant_a)
    assert selectors.delivery_stats(tenant_a, hours=1)["turns"] == 0  # nothing answered yet
