from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from conversations.signing import SignatureProblem, secret_key_bytes, sign, signed_headers, verify
from imperium.core.crypto import generate_webhook_secret

BODY = '{"message_id": "wamid.1", "text": "Привет"}'.encode()


def _verify(secret, headers, body=BODY, **kw):
    return verify([secret_key_bytes(secret)], msg_id=headers.get("webhook-id"), timestamp=headers.get("webhook-timestamp"),
                  signature_header=headers.get("webhook-signature"), body=body, **kw)


def test_it_verifies_what_the_standardwebhooks_package_signs():
    secret = generate_webhook_secret()
    now = datetime.now(tz=UTC)
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(secret).sign("msg_1", now, BODY.decode())}
    assert _verify(secret, headers) is None


def test_what_it_signs_passes_the_standardwebhooks_package():
    secret = generate_webhook_secret()
    headers = signed_headers(secret, BODY)
    assert Webhook(secret).verify(BODY, headers) == {"message_id": "wamid.1", "text": "Привет"}


def test_it_accepts_any_of_several_signatures_and_keys():
    old, new = generate_webhook_secret(), generate_webhook_secret()
    ts = str(int(time.time()))
    header = f"v1,{'A' * 44} {sign(old, 'msg_1', ts, BODY)}"
    keys = [secret_key_bytes(new), secret_key_bytes(old)]
    assert verify(keys, msg_id="msg_1", timestamp=ts, signature_header=header, body=BODY) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"webhook-id": None}, SignatureProblem.MISSING_HEADERS),
        ({"webhook-timestamp": "soon"}, SignatureProblem.BAD_TIMESTAMP),
        ({"webhook-timestamp": -400}, SignatureProblem.STALE_TIMESTAMP),
        ({"webhook-timestamp": +400}, SignatureProblem.STALE_TIMESTAMP),
        ({"webhook-signature": "v2,abc"}, SignatureProblem.NO_MATCH),
        ({"webhook-signature": "v1,!!!not-base64"}, SignatureProblem.NO_MATCH),
    ],
)
def test_it_names_what_is_wrong(change, problem):
    secret = generate_webhook_secret()
    if isinstance(change.get("webhook-timestamp"), int):  # an offset from now, signed correctly
        headers = signed_headers(secret, BODY, timestamp=int(time.time()) + change["webhook-timestamp"])
        change = {}
    else:
        headers = signed_headers(secret, BODY)
    headers = {**headers, **change}
    assert _verify(secret, {k: v for k, v in headers.items() if v is not None}) is problem


def test_it_refuses_a_changed_body_or_timestamp():
    secret = generate_webhook_secret()
    headers = signed_headers(secret, BODY)
    assert _verify(secret, headers, body=BODY + b" ") is SignatureProblem.NO_MATCH
    moved = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 1)}
    assert _verify(secret, moved) is SignatureProblem.NO_MATCH


def test_it_rejects_an_unusable_secret():
    with pytest.raises(ValueError):
        secret_key_bytes("whsec_")
