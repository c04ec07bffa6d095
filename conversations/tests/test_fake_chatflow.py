"""The fake gateway must behave like the real one, or the delivery tests prove nothing."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from conversations.testing.fake_chatflow import FakeChatFlow
from conversations.testing.live import ROOT, free_port


def _send(url, key="k1", text="hi", header_key=None, **extra):
    body = {"token": "t", "instance_id": "i", "to": "+77011234567", "text": text, "msg_id": key, **extra}
    return requests.post(f"{url}/send-text", json=body, headers={"Idempotency-Key": header_key or key}, timeout=5)


def test_it_delivers_once_per_idempotency_key():
    with FakeChatFlow() as fake:
        first = _send(fake.url)
        second = _send(fake.url)
    assert first.json() == {"success": True, "message_id": "fake-1"}
    assert second.json() == {"success": True, "message_id": "fake-1", "duplicate": True}
    assert len(fake.messages) == 1 and fake.messages[0].repeats == 1


def test_it_injects_faults_in_order():
    with FakeChatFlow() as fake:
        fake.fail(500)
        fake.fail(429, retry_after="7")
        assert _send(fake.url).status_code == 500
        limited = _send(fake.url)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
        assert _send(fake.url).status_code == 200
    assert [r.outcome for r in fake.requests] == ["fault:500", "fault:429", "delivered"]


def test_a_hang_delivers_nothing_and_a_delay_delivers_slowly():
    with FakeChatFlow() as fake:
        fake.hang(0.2)
        fake.delay(0.2)
        assert _send(fake.url, key="a").status_code == 504
        assert _send(fake.url, key="b").status_code == 200
    assert [m.key for m in fake.messages] == ["b"]


def test_it_refuses_what_the_real_gateway_refuses():
    with FakeChatFlow(require_token="right") as fake:
        assert _send(fake.url, header_key="other").status_code == 400
        assert _send(fake.url, text="").status_code == 400
        assert _send(fake.url).status_code == 401
    assert fake.messages == []


def test_it_is_controlled_over_http():
    with FakeChatFlow() as fake:
        requests.post(f"{fake.url}/_control/faults", json=[{"kind": "status", "status": 502}], timeout=5)
        assert _send(fake.url).status_code == 502
        _send(fake.url)
        assert [m["key"] for m in requests.get(f"{fake.url}/_control/messages", timeout=5).json()] == ["k1"]
        assert len(requests.get(f"{fake.url}/_control/requests", timeout=5).json()) == 2
        requests.post(f"{fake.url}/_control/reset", timeout=5)
        assert requests.get(f"{fake.url}/_control/messages", timeout=5).json() == []


@pytest.mark.live
def test_it_runs_standalone():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "conversations.testing.fake_chatflow", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stdout.readline()
        assert _send(f"http://127.0.0.1:{port}").json()["success"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=10)
