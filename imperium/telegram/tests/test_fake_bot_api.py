"""The fake Bot API itself: protocol details tests elsewhere rely on, and the standalone mode."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from imperium.telegram.testing.fake_bot_api import FakeBotApi

ROOT = Path(__file__).resolve().parents[3]


def test_it_accepts_json_form_and_query_parameters(fake_bot_api):
    base = f"{fake_bot_api.url}/bot1:t"
    json_answer = requests.post(f"{base}/sendMessage", json={"chat_id": 5, "text": "json"}, timeout=5).json()
    form_answer = requests.post(f"{base}/sendMessage", data={"chat_id": "5", "text": "form"}, timeout=5).json()
    query_answer = requests.get(f"{base}/sendMessage", params={"chat_id": "5", "text": "query"}, timeout=5).json()
    assert [a["result"]["text"] for a in (json_answer, form_answer, query_answer)] == ["json", "form", "query"]
    assert json_answer["ok"] is True and json_answer["result"]["chat"] == {"id": 5, "type": "private", "first_name": "Test"}


def test_it_answers_like_telegram_for_unknown_methods_and_tokens():
    with FakeBotApi(valid_tokens={"1:good"}) as api:
        unknown = requests.post(f"{api.url}/bot1:good/sendTelepathy", timeout=5)
        assert unknown.status_code == 404 and unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        refused = requests.post(f"{api.url}/bot1:bad/getMe", timeout=5)
        assert refused.status_code == 401 and refused.json()["description"] == "Unauthorized"


def test_it_shapes_429_like_telegram(fake_bot_api):
    fake_bot_api.fail_next(429, retry_after=3, method="sendMessage")
    other = requests.post(f"{fake_bot_api.url}/bot1:t/getMe", timeout=5)
    assert other.status_code == 200  # a failure aimed at one method leaves the others alone
    answer = requests.post(f"{fake_bot_api.url}/bot1:t/sendMessage", json={"chat_id": 1, "text": "x"}, timeout=5)
    assert answer.status_code == 429
    assert answer.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                             "parameters": {"retry_after": 3}}
    assert [c.status for c in fake_bot_api.calls] == [200, 429]


@pytest.mark.live
def test_it_runs_standalone_with_a_control_api():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "imperium.telegram.testing.fake_bot_api", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                requests.get(f"{base}/_fake/calls", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        requests.post(f"{base}/_fake/fail", json={"status": 429, "retry_after": 2}, timeout=5)
        assert requests.post(f"{base}/bot1:t/sendMessage", json={"chat_id": 1, "text": "a"}, timeout=5).status_code == 429
        assert requests.post(f"{base}/bot1:t/sendMessage", json={"chat_id": 1, "text": "a"}, timeout=5).status_code == 200
        requests.post(f"{base}/_fake/updates", json={"update_id": 1, "message": {"message_id": 1, "date": 0,
                                                                                 "chat": {"id": 1, "type": "private"}}}, timeout=5)
        updates = requests.get(f"{base}/bot1:t/getUpdates", params={"timeout": 0}, timeout=5).json()["result"]
        assert [u["update_id"] for u in updates] == [1]
        calls = requests.get(f"{base}/_fake/calls", timeout=5).json()["calls"]
        assert [c["status"] for c in calls] == [429, 200, 200]
    finally:
        server.terminate()
        server.wait(timeout=10)
