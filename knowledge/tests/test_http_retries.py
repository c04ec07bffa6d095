"""The embeddings and LLM clients retry through urllib3's Retry: 429/5xx and timeouts with
backoff, the server's Retry-After honoured (up to a cap), 4xx final."""

from __future__ import annotations

import pytest

from conversations.answering.llm_client import LLMClient
from imperium.core.exceptions import IntegrationError
from knowledge.clients.embeddings import EmbeddingsClient
from knowledge.tests.fakes import FakeServer


@pytest.fixture
def slept(monkeypatch):
    """What urllib3's Retry waited, without waiting."""
    waits: list[float] = []
    monkeypatch.setattr("urllib3.util.retry.time.sleep", waits.append)
    return waits


def _script(*answers):
    queue = list(answers)

    def responder(method, path, body, headers):
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return responder


EMBEDDED = (200, {"data": [{"index": 0, "embedding": [0.5] * 4}]})
COMPLETION = (200, {"choices": [{"message": {"content": "Маникюр — 9 000 ₸."}}]})


def test_embeddings_wait_what_retry_after_says_then_succeed(slept):
    with FakeServer(_script((429, {"error": "slow down"}, {"Retry-After": "2"}), (503, {}, {"Retry-After": "1"}), EMBEDDED)) as server:
        vectors = EmbeddingsClient(server.url, dim=4, retries=3, backoff=0.001).embed(["a"])
    assert vectors == [[0.5] * 4] and len(server.requests) == 3
    assert slept[:2] == [2.0, 1.0]


def test_the_llm_honours_retry_after_and_gives_up_after_its_retries(slept):
    with FakeServer(_script((429, {}, {"Retry-After": "3"}), COMPLETION)) as server:
        assert LLMClient(server.url, model="m", retries=2, backoff=0.001).chat([{"role": "user", "content": "?"}]) == "Маникюр — 9 000 ₸."
    assert slept == [3.0] and len(server.requests) == 2

    with FakeServer(lambda *a: (502, {"error": "bad gateway"})) as server, pytest.raises(IntegrationError, match="502") as exc:
        LLMClient(server.url, model="m", retries=2, backoff=0.001).chat([{"role": "user", "content": "?"}])
    assert not exc.value.permanent and len(server.requests) == 3


def test_a_retry_after_beyond_the_cap_fails_at_once_instead_of_holding_the_worker(slept):
    with FakeServer(lambda *a: (429, {}, {"Retry-After": "600"})) as server, pytest.raises(IntegrationError, match="429") as exc:
        EmbeddingsClient(server.url, dim=4, retries=3, backoff=0.001).embed(["a"])
    assert len(server.requests) == 1 and slept == [] and exc.value.status == 429


def test_a_refused_key_is_not_retried(slept):
    with FakeServer(lambda *a: (401, {"error": "no"})) as server, pytest.raises(IntegrationError, match="LLM_API_KEY") as exc:
        LLMClient(server.url, model="m", retries=2, backoff=0.001).chat([{"role": "user", "content": "?"}])
    assert exc.value.permanent and len(server.requests) == 1
