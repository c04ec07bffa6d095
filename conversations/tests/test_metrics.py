"""The pipeline's Prometheus metrics: webhook requests counted on the fast path, turns,
deliveries, escalations and the outbox backlog, as /metrics shows them."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from conversations.models import Conversation
from conversations.services.delivery import outbound_deliver
from conversations.signing import signed_headers
from conversations.tests.helpers import conversation_new, conversation_of

pytestmark = pytest.mark.django_db


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(after, before, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def _due(conversation: Conversation):
    conversation.refresh_from_db()
    return conversation.reply_due_at + timedelta(seconds=1)


def _wsgi_post(path: str, body: bytes, headers: dict[str, str]) -> str:
    """POST through the real WSGI application gunicorn serves (metrics → fast path → Django)."""
    from imperium.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)), "CONTENT_TYPE": "application/json", "wsgi.errors": io.StringIO(),
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k.lower() != "content-type"},
    }
    status = []
    b"".join(application(environ, lambda s, h, *e: status.append(s)))
    return status[0]


@pytest.mark.django_db(transaction=True)
def test_webhook_requests_on_the_fast_path_are_counted_by_status_and_timed(client, tenant_a):
    before = scrape(client)
    body = json.dumps({"message_id": "wamid.m1", "from": "+77011234567", "type": "text", "text": "Привет"}).encode()
    assert _wsgi_post(f"/webhook/{tenant_a.slug}", body, signed_headers(tenant_a.settings.webhook_secret, body)).startswith("200")
    assert _wsgi_post(f"/webhook/{tenant_a.slug}", body, signed_headers("whsec_" + "A" * 32, body)).startswith("401")
    signed_elsewhere = signed_headers("whsec_" + "A" * 32, body)  # signed, for a tenant that does not exist
    assert _wsgi_post("/webhook/no-such-tenant", body, signed_elsewhere).startswith("404")
    after = scrape(client)

    for status in ("200", "401", "404"):
        assert delta(after, before, "imperium_webhook_requests_total", status=status) == 1, status
    assert delta(after, before, "imperium_webhook_accept_seconds_count") == 3


def test_turns_escalations_and_deliveries_are_counted(client, webhook, tenant_a, brain, inline, fake_chatflow):
    from conversations.services import turn_run_due

    before = scrape(client)
    brain("Маникюр — 5000 ₸.")
    webhook.post(tenant_a, text="Сколько стоит маникюр?")
    conversation = conversation_of(tenant_a)
    with time_machine.travel(_due(conversation), tick=False), inline():
        assert turn_run_due(conversation_id=conversation.pk) == "answered"
    after = scrape(client)
    assert delta(after, before, "imperium_turns_total", decision="answer", reason="") == 1
    assert delta(after, before, "imperium_turn_seconds_count") == 1
    assert delta(after, before, "imperium_deliveries_total", outcome="sent") == 1

    brain(action="escalate", reason="low_confidence")
    webhook.post(tenant_a, text="А что-то странное?")
    with time_machine.travel(_due(conversation), tick=False), inline():
        assert turn_run_due(conversation_id=conversation.pk) == "escalated"
    final = scrape(client)
    assert delta(final, after, "imperium_escalations_total", reason="low_confidence") == 1
    assert delta(final, after, "imperium_turns_total", decision="escalate", reason="low_confidence") == 1


def test_a_failed_delivery_is_counted_with_its_attempts(client, tenant_a, fake_chatflow, inline, settings):
    settings.DELIVERY_RETRY_WINDOW_SECONDS = 0  # give up after one run instead of retrying from the outbox
    from conversations.services import outbound_enqueue

    conversation = conversation_new(tenant_a)
    fake_chatflow.fail(503, times=10)
    before = scrape(client)
    outbound = outbound_enqueue(tenant=tenant_a, conversation=conversation, text="Маникюр стоит 5000 ₸.", kind="reply",
                                idempotency_key="t-metrics", dispatch=False)
    with inline():
        assert outbound_deliver(outbound_id=outbound.pk).status == "failed"
    after = scrape(client)
    assert delta(after, before, "imperium_deliveries_total", outcome="failed") == 1
    assert delta(after, before, "imperium_delivery_attempts_sum", outcome="failed") == 4
    assert delta(after, before, "imperium_escalations_total", reason="delivery_failed") == 1


def test_the_outbox_backlog_and_its_oldest_age_are_read_at_scrape_time(client, webhook, tenant_a):
    assert value(scrape(client), "imperium_outbox_backlog", kind="turns_due") == 0
    webhook.post(tenant_a, text="Здравствуйте")
    Conversation.objects.filter(tenant=tenant_a).update(reply_due_at=timezone.now() - timedelta(seconds=90))
    samples = scrape(client)
    assert value(samples, "imperium_outbox_backlog", kind="turns_due") == 1
    assert 90 <= value(samples, "imperium_outbox_oldest_due_seconds", kind="turns_due") < 200
    assert value(samples, "imperium_collector_outbox_up") == 1
