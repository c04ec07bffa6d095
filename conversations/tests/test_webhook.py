from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from conversations.conftest import message_body
from conversations.models import Conversation, DeadLetter, InboundMessage
from conversations.services import inbound as inbound_service
from conversations.tests.helpers import conversation_of
from imperium.core.crypto import generate_webhook_secret
from tenants.services import client_set_status, webhook_secret_rotate

pytestmark = pytest.mark.django_db


def test_it_accepts_a_signed_message_and_stores_it_once(webhook, tenant_a):
    response = webhook.post(tenant_a, message_id="wamid.1", text="Сколько стоит маникюр?")

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    message = InboundMessage.objects.get(tenant=tenant_a)
    assert message.provider_message_id == "wamid.1"
    assert message.text == "Сколько стоит маникюр?"
    conversation = message.conversation
    assert conversation.state == "bot"
    assert conversation.reply_due_at is not None  # a turn is due after the coalescing window
    assert response["X-Correlation-ID"] == message.correlation_id


def test_it_never_stores_the_customer_phone_in_clear_text(webhook, tenant_a):
    webhook.post(tenant_a, message_id="wamid.p", **{"from": "+77011234567"})

    conversation = conversation_of(tenant_a)
    assert conversation.customer_phone == "+77011234567"  # decrypted for sending
    assert conversation.customer_phone_masked.startswith("+7701•••4567·")
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_phone, customer_key FROM conversations_conversation WHERE id = %s", [conversation.pk])
        raw_phone, key = cursor.fetchone()
    assert "77011234567" not in raw_phone and "77011234567" not in key
    assert InboundMessage.objects.get().payload["from"] == conversation.customer_phone_masked


def test_it_answers_duplicate_for_a_repeated_message_id_and_changes_nothing(webhook, tenant_a):
    body = message_body(message_id="wamid.dup")
    assert webhook.post(tenant_a, body).json() == {"status": "accepted"}
    before = Conversation.objects.values_list("reply_due_at", "last_inbound_at").get()

    again = webhook.post(tenant_a, body)

    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert InboundMessage.objects.count() == 1
    assert Conversation.objects.values_list("reply_due_at", "last_inbound_at").get() == before


def test_it_keeps_message_ids_apart_per_tenant(webhook, tenant_a, tenant_b):
    assert webhook.post(tenant_a, message_id="wamid.same").json()["status"] == "accepted"
    assert webhook.post(tenant_b, message_id="wamid.same").json()["status"] == "accepted"
    assert InboundMessage.objects.count() == 2


def test_it_refuses_a_wrong_secret(webhook, tenant_a):
    response = webhook.post(tenant_a, secret=generate_webhook_secret())
    assert response.status_code == 401
    assert InboundMessage.objects.count() == 0


def test_it_refuses_another_tenants_secret(webhook, tenant_a, tenant_b):
    response = webhook.post(tenant_a, secret=tenant_b.settings.webhook_secret)
    assert response.status_code == 401


def test_it_accepts_the_previous_secret_during_rotation(webhook, tenant_a):
    old = tenant_a.settings.webhook_secret
    webhook.post(tenant_a)  # warm this process's tenant cache with the old secret only
    new = webhook_secret_rotate(actor=_system(), client=tenant_a)

    assert webhook.post(tenant_a, secret=old).status_code == 200
    # The new secret works at once although the old one is cached: a failed check re-reads.
    assert webhook.post(tenant_a, secret=new).status_code == 200
    assert InboundMessage.objects.count() == 3


def test_it_refuses_the_secret_before_the_previous_one(webhook, tenant_a):
    oldest = tenant_a.settings.webhook_secret
    webhook_secret_rotate(actor=_system(), client=tenant_a)
    webhook_secret_rotate(actor=_system(), client=tenant_a)
    assert webhook.post(tenant_a, secret=oldest).status_code == 401


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["stale", "future"])
def test_it_refuses_timestamps_outside_five_minutes(webhook, tenant_a, offset):
    response = webhook.post(tenant_a, timestamp=datetime.now(tz=UTC) + offset)
    assert response.status_code == 401
    assert "window" in response.json()["error"]


def test_it_accepts_timestamps_inside_five_minutes(webhook, tenant_a):
    assert webhook.post(tenant_a, timestamp=datetime.now(tz=UTC) - timedelta(minutes=4)).status_code == 200


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_it_refuses_missing_signature_headers(client, tenant_a, missing):
    from conversations.conftest import WebhookSender

    sender = WebhookSender(client)
    body = json.dumps(message_body()).encode()
    headers = sender.headers(tenant_a.settings.webhook_secret, body)
    del headers[missing]
    response = client.post(f"/webhook/{tenant_a.slug}", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert InboundMessage.objects.count() == 0


def test_it_refuses_a_tampered_body(client, tenant_a):
    from conversations.conftest import WebhookSender

    body = json.dumps(message_body(text="Сколько стоит маникюр?"), ensure_ascii=False).encode()
    headers = WebhookSender(client).headers(tenant_a.settings.webhook_secret, body)
    tampered = body.replace("маникюр".encode(), "педикюр".encode())
    response = client.post(f"/webhook/{tenant_a.slug}", data=tampered, content_type="application/json", headers=headers)
    assert response.status_code == 401


def test_it_refuses_a_tampered_signature_id(webhook, tenant_a):
    assert webhook.post(tenant_a, headers={"webhook-id": "msg_other"}).status_code == 401


def test_it_answers_404_for_an_unknown_tenant(client):
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}
    response = client.post("/webhook/nobody", data=b"{}", content_type="application/json", headers=headers)
    assert response.status_code == 404
    assert client.post("/webhook/nobody", data=b"{}", content_type="application/json").status_code == 401  # unsigned


def test_it_answers_404_for_a_disabled_tenant(webhook, tenant_a):
    client_set_status(actor=_system(), client=tenant_a, status="disabled")
    assert webhook.post(tenant_a).status_code == 404
    assert InboundMessage.objects.count() == 0


def test_it_answers_413_for_a_body_over_64_kib(webhook, tenant_a):
    response = webhook.post(tenant_a, text="я" * 40_000)  # 80 KB in UTF-8
    assert response.status_code == 413
    assert InboundMessage.objects.count() == 0 and DeadLetter.objects.count() == 0


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"from": "+77011234567", "text": "hi"}).encode(), "message_id"),
        (json.dumps({"message_id": "m1", "from": "nobody", "text": "hi"}).encode(), "phone"),
        (json.dumps({"message_id": "m1", "from": "+77011234567", "type": "text"}).encode(), "text"),
        (json.dumps({"message_id": "m1", "from": "+77011234567", "text": "hi", "timestamp": "yesterday"}).encode(), "timestamp"),
    ],
)
def test_it_keeps_a_signed_malformed_body_as_a_dead_letter(webhook, tenant_a, raw, error, monkeypatch, django_capture_on_commit_callbacks):
    alerts = []
    monkeypatch.setattr("incidents.alerts.alert_raise", lambda **kw: alerts.append(kw))

    with django_capture_on_commit_callbacks(execute=True):
        response = webhook.post(tenant_a, raw=raw)

    assert response.status_code == 400
    assert error in response.json()["error"]
    letter = DeadLetter.objects.get(tenant=tenant_a)
    assert error in letter.error
    assert letter.status == "new"
    assert "77011234567" not in letter.body  # phone masked even in what we could not parse
    assert InboundMessage.objects.count() == 0
    assert alerts and alerts[0]["tenant"] == tenant_a


def test_it_does_not_keep_unsigned_garbage(client, tenant_a):
    response = client.post(f"/webhook/{tenant_a.slug}", data=b"not json", content_type="application/json")
    assert response.status_code == 401
    assert DeadLetter.objects.count() == 0


def test_it_takes_the_tenant_from_the_body_on_the_short_route(webhook, tenant_a):
    response = webhook.post(tenant_a, message_body(client_slug=tenant_a.slug), path="/webhook")
    assert response.status_code == 200
    assert InboundMessage.objects.get().tenant == tenant_a


@pytest.mark.parametrize("body", [b"not json", b'{"message_id": "x"}', b'{"client_slug": "../etc"}'])
def test_it_refuses_the_short_route_without_a_usable_slug(client, body):
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"}
    response = client.post("/webhook", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert client.post("/webhook", data=body, content_type="application/json").status_code == 401  # unsigned


def test_it_stores_non_text_messages(webhook, tenant_a):
    response = webhook.post(tenant_a, type="image", text=None)
    assert response.status_code == 200
    message = InboundMessage.objects.get()
    assert message.message_type == "image" and message.text == ""


def test_it_refuses_other_methods(client, tenant_a):
    assert client.get(f"/webhook/{tenant_a.slug}").status_code == 405


def test_it_queues_the_turn_once_per_burst_on_the_tenants_channel(webhook, tenant_a, queued, django_capture_on_commit_callbacks):
    tenant_a.settings.release_channel = "canary"
    tenant_a.settings.save()
    with django_capture_on_commit_callbacks(execute=True):
        webhook.post(tenant_a, text="Здравствуйте")
        webhook.post(tenant_a, text="Сколько стоит маникюр?")

    assert [(q.task, q.queue) for q in queued] == [("conversations.turn_run", "canary")]
    conversation = Conversation.objects.get()
    assert queued[0].args == [conversation.pk]
    assert queued[0].eta == conversation.reply_due_at


def test_it_reopens_a_closed_conversation(webhook, tenant_a):
    webhook.post(tenant_a)
    Conversation.objects.update(state="closed", reply_due_at=None)
    webhook.post(tenant_a)
    conversation = Conversation.objects.get()
    assert conversation.state == "bot" and conversation.reply_due_at is not None


class _FakeRedis:
    def __init__(self):
        self.keys = {}

    def set(self, key, value, nx=False, ex=None):
        if nx and key in self.keys:
            return None
        self.keys[key] = value
        return True


def test_it_answers_repeats_from_the_redis_fast_path_after_confirming_in_the_database(webhook, tenant_a, monkeypatch):
    fake = _FakeRedis()
    monkeypatch.setattr(inbound_service, "_redis", lambda: fake)
    body = message_body(message_id="wamid.r1")

    assert webhook.post(tenant_a, body).json()["status"] == "accepted"
    assert len(fake.keys) == 1
    assert webhook.post(tenant_a, body).json()["status"] == "duplicate"


def test_it_never_drops_a_message_because_of_a_stale_redis_key(webhook, tenant_a, monkeypatch, settings):
    """A request that set its Redis key and then died before committing must not make the
    sender's retry look like a duplicate."""
    fake = _FakeRedis()
    fake.keys[f"{settings.WEBHOOK_DEDUP_KEY_PREFIX}:{tenant_a.pk}:wamid.lost"] = b"1"
    monkeypatch.setattr(inbound_service, "_redis", lambda: fake)

    response = webhook.post(tenant_a, message_id="wamid.lost")

    assert response.json()["status"] == "accepted"
    assert InboundMessage.objects.filter(provider_message_id="wamid.lost").exists()


def test_it_keeps_accepting_when_redis_is_down(webhook, tenant_a, monkeypatch):
    class Broken:
        def set(self, *args, **kwargs):
            raise ConnectionError("redis down")

    monkeypatch.setattr(inbound_service, "_redis", lambda: Broken())
    assert webhook.post(tenant_a).json()["status"] == "accepted"


def test_it_keeps_accepting_when_nothing_listens_at_the_redis_url(webhook, tenant_a, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # the real client, refused at once

    assert webhook.post(tenant_a, message_id="wamid.noredis").json()["status"] == "accepted"
    assert webhook.post(tenant_a, message_id="wamid.noredis").json()["status"] == "duplicate"
    assert InboundMessage.objects.filter(provider_message_id="wamid.noredis").count() == 1


def test_it_sets_the_dedup_key_in_a_real_redis(webhook, tenant_a, settings):
    import os

    import redis

    if not os.environ.get("REDIS_URL"):
        pytest.skip("REDIS_URL not set: the embedded run has no Redis (CI sets it)")
    settings.REDIS_URL = os.environ["REDIS_URL"]
    key = f"{settings.WEBHOOK_DEDUP_KEY_PREFIX}:{tenant_a.pk}:wamid.real"

    assert webhook.post(tenant_a, message_id="wamid.real").json()["status"] == "accepted"
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.get(key) == b"1" and 0 < client.ttl(key) <= settings.WEBHOOK_DEDUP_TTL_SECONDS
    assert webhook.post(tenant_a, message_id="wamid.real").json()["status"] == "duplicate"
    assert InboundMessage.objects.filter(provider_message_id="wamid.real").count() == 1
    client.close()


def _system():
    from imperium.core.actors import Actor

    return Actor.system("test")
