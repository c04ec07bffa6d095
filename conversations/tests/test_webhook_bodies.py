"""Bodies from the internet and from a correctly signed gateway: never a 5xx, never lost, no ErrorLog flood."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client as HttpClient

from conversations.conftest import message_body
from conversations.models import DeadLetter, InboundMessage
from incidents.models import ErrorLog

pytestmark = pytest.mark.django_db

DEEP = b'{"client_slug":"x","x":' + b"[" * 20000 + b"]" * 20000 + b"}"


def _raw_client():
    return HttpClient(raise_request_exception=False)


@pytest.mark.parametrize("path", ["/webhook", "/webhook/alpha"])
def test_it_answers_an_unsigned_deeply_nested_body_without_parsing_it_or_writing_an_errorlog(path, tenant_a):
    client = _raw_client()
    for _ in range(5):
        response = client.post(path, data=DEEP.replace(b'"x"', b'"alpha"', 1), content_type="application/json")
        assert response.status_code == 401
        assert response.json() == {"error": "missing signature headers"}
    assert ErrorLog.objects.count() == 0
    assert DeadLetter.objects.count() == 0


def test_it_refuses_unsigned_garbage_on_the_short_route_with_401_before_looking_up_the_tenant():
    response = _raw_client().post("/webhook", data=b'{"client_slug": "nobody"}', content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b'{"message_id":"m1","from":"+77011234567","text":"hi","x":' + b"[" * 20000 + b"]" * 20000 + b"}", "nested"),
        (b'{"message_id":"m1","from":"+77011234567","text":"hi","x":' + b"[" * 40 + b"]" * 40 + b"}", "nested"),
        (b'{"message_id":"m1","from":"+77011234567","text":"hi","extra":NaN}', "NaN"),
        (b'{"message_id":"m1","from":"+77011234567","text":"hi","extra":Infinity}', "Infinity"),
        (b'{"message_id":"m1","from":"+77011234567","text":"hi","extra":-Infinity}', "Infinity"),
        (b'{"message_id":"m1","from":"+77011234567","text":"hi","extra":1e400}', "out of range"),
        (b'\x00\xffnot json', "UTF-8"),
    ],
)
def test_it_keeps_a_signed_body_it_cannot_store_as_a_dead_letter_with_the_raw_bytes(webhook, tenant_a, raw, error):
    response = webhook.post(tenant_a, raw=raw)

    assert response.status_code == 400
    assert error in response.json()["error"]
    letter = DeadLetter.objects.get(tenant=tenant_a)
    assert error in letter.error
    assert base64.b64decode(letter.raw_body) == raw  # the exact bytes, for a replay
    assert "77011234567" not in letter.body
    assert InboundMessage.objects.count() == 0
    assert ErrorLog.objects.count() == 0


def test_it_keeps_the_raw_bytes_encrypted_at_rest(webhook, tenant_a):
    from django.db import connection

    webhook.post(tenant_a, raw=b'{"message_id":"m1","from":"+77011234567","text":"hi","extra":NaN}')
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_body, body FROM conversations_deadletter")
        raw_body, body = cursor.fetchone()
    assert raw_body.startswith("fernet:")
    assert "77011234567" not in raw_body and "77011234567" not in body


@pytest.mark.parametrize(
    ("text", "stored"),
    [("\ud800 привет", "\ufffd привет"), ("при\x00вет", "привет"), ("\udfff\ud800", "\ufffd\ufffd")],
)
def test_it_normalises_text_it_can_store_and_accepts_the_message(webhook, tenant_a, text, stored):
    body = message_body(text=text, name="Ай\x00гер\ud800им", extra={"note": "a\x00b"})
    raw = json.dumps(body).encode()  # ASCII escapes: \ud800, \u0000

    response = webhook.post(tenant_a, raw=raw)

    assert response.status_code == 200, response.content
    message = InboundMessage.objects.get()
    assert message.text == stored
    assert message.payload["extra"] == {"note": "ab"}
    assert message.conversation.customer_name == "Айгер\ufffdим"
    assert DeadLetter.objects.count() == 0


def test_it_keeps_a_body_the_database_refuses_as_a_dead_letter(webhook, tenant_a, monkeypatch):
    """A value the database refuses (DataError) fails on every retry: a dead letter, not a 5xx."""
    from django.db import DataError, connection

    from conversations.services import inbound

    def refused(**kwargs):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT CAST('not a number' AS integer)")  # the server's own refusal
        raise DataError("value refused by the database")  # SQLite casts anything: refuse as Postgres would

    monkeypatch.setattr(inbound, "inbound_accept", refused)
    response = webhook.post(tenant_a)

    assert response.status_code == 400
    assert "cannot be stored" in response.json()["error"]
    assert DeadLetter.objects.get().raw_body


def test_it_reads_the_slug_from_the_body_without_parsing_it_first(webhook, tenant_a):
    body = message_body(client_slug=tenant_a.slug, text='say "client_slug": "beta" please')
    response = webhook.post(tenant_a, body, path="/webhook")
    assert response.status_code == 200
    assert InboundMessage.objects.get().tenant == tenant_a


def test_it_reads_the_slug_from_the_query(webhook, tenant_a):
    response = webhook.post(tenant_a, message_body(), path=f"/webhook?client_slug={tenant_a.slug}")
    assert response.status_code == 200
    assert InboundMessage.objects.get().tenant == tenant_a


def test_it_refuses_a_signed_body_whose_parsed_slug_disagrees(webhook, tenant_a, tenant_b):
    raw = json.dumps({"x": {"client_slug": tenant_a.slug}, **message_body(client_slug=tenant_b.slug)}).encode()
    response = webhook.post(tenant_a, raw=raw, path="/webhook")
    assert response.status_code == 400
    assert InboundMessage.objects.count() == 0
    assert DeadLetter.objects.get().tenant == tenant_a


@pytest.mark.parametrize("path", ["/webhook/%14", "/no-such-page", "/api/nothing"])
def test_every_api_route_answers_json_errors(client, path):
    response = client.post(path, data=b"{}", content_type="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "not found"}


def test_the_fast_path_answers_bad_bodies_without_5xx_or_errorlog(tenant_a, settings):
    """Through the WSGI application gunicorn runs (the fast path), not the test client's handler."""
    import io
    import time

    from django.core import signals
    from django.db import close_old_connections
    from standardwebhooks import Webhook

    from imperium.wsgi import application

    def call(path, body, headers=None):
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": "", "CONTENT_LENGTH": str(len(body)),
                   "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body), "SERVER_NAME": "testserver",
                   "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status = []
        # As Django's test client does: the test's transaction must survive the request signals.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            payload = b"".join(application(environ, lambda s, h: status.append(s)))
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return int(status[0].split()[0]), payload

    assert call("/webhook", DEEP)[0] == 401
    raw = b'{"message_id":"m1","from":"+77011234567","text":"hi","extra":NaN}'
    from datetime import UTC, datetime

    signature = Webhook(tenant_a.settings.webhook_secret).sign("msg_fast", datetime.now(tz=UTC), raw.decode())
    status, payload = call(f"/webhook/{tenant_a.slug}", raw, {"webhook-id": "msg_fast",
                                                               "webhook-timestamp": str(int(time.time())),
                                                               "webhook-signature": signature})
    assert status == 400 and b"NaN" in payload
    assert ErrorLog.objects.count() == 0
    assert DeadLetter.objects.count() == 1


def test_two_phones_that_mask_alike_stay_distinguishable():
    from imperium.core.crypto import mask_phone

    first, second = mask_phone("+77011110001"), mask_phone("+77012220001")
    assert first.startswith("+7701•••0001") and second.startswith("+7701•••0001")
    assert first != second
    assert mask_phone("+77011110001") == first  # stable: the same customer always looks the same
    assert "1110" not in first and "2220" not in second


def test_dead_letter_masking_keeps_timestamps_readable(webhook, tenant_a):
    raw = b'{"message_id":"m1","from":"+77011234567","timestamp":1796522779,"sent_ms":1796522779123,"extra":NaN}'
    assert webhook.post(tenant_a, raw=raw).status_code == 400
    body = DeadLetter.objects.get().body
    assert "1796522779" in body and "1796522779123" in body
    assert "77011234567" not in body and "+7701•••4567·" in body
