"""The study hook of a tolerance for uncovered words (`knowledge.matching.WAIVER`, bench/qualifier_study.py, docs/EVAL.md
"QW"): off by default, and when a study sets it, tried only on the nearest item of a segment nothing answers — it can
turn a qualifier escalation into an answer, never change an answer some item already gives."""

from __future__ import annotations

import pytest

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import matching as M

ITEMS = [
    {"id": "curtains", "question": "Сколько стоит чистка штор?", "answer": "Шторы — 1 200 ₸ за м² полотна."},
    {"id": "coats", "question": "Сколько стоит чистка пальто?", "answer": "Пальто — 6 000 ₸."},
]


@pytest.fixture
def waiver():
    seen: list[tuple[str, str, float]] = []

    def waive(snapshot, token, segment, feats, in_question, rest, uncovered, margin=9.0):
        seen.append((feats.doc.external_id, token.text, margin))
        return True

    M.WAIVER = waive
    yield seen
    M.WAIVER = None


def test_no_waiver_by_default(tenant_a):
    assert M.WAIVER is None
    kb_serve(tenant_a, ITEMS)
    decision = decide_reply(tenant_a, None, ["Сколько стоит чистка штор в спальне?"])
    assert decision.action == "escalate" and decision.reason == "unsupported_qualifier"
    assert decision.detail["missing"]["words"] == ["спальне"]


def test_a_waiver_answers_from_the_nearest_item_only_where_nothing_answers(tenant_a, waiver):
    kb_serve(tenant_a, ITEMS)
    decision = decide_reply(tenant_a, None, ["Сколько стоит чистка штор в спальне?"])
    assert decision.action == "answer" and decision.sources == ["curtains"] and "1 200" in decision.text
    assert {(item, word) for item, word, _ in waiver} == {("curtains", "спальне")}  # the nearest item, nothing else
    waiver.clear()
    decision = decide_reply(tenant_a, None, ["Сколько стоит чистка пальто?"])
    assert decision.sources == ["coats"] and waiver == []  # answered as written: the waiver is never asked
