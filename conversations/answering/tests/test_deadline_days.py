"""A relative day asked with a readiness verb («на завтра успеете?», «к субботе сделаете?») against an item that
states a lead time («минимум за 2 дня до выдачи») is the lead-time question (issue 13, docs/EVAL.md "DL").
Invented businesses only."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

BAKERY = [
    {"id": "lead-time", "question": "За сколько дней заказывать пирог?",
     "answer": "Пироги на заказ — минимум за 2 дня до выдачи; пирожки — за 1 день."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Пекарня: ул. Луговая, 7."},
]


def test_a_relative_day_needs_a_readiness_verb():
    assert T.deadline_days("на завтра успеете?") == {"завтра"}
    assert T.deadline_days("к субботе сделаете пирог?") == {"субботе"}
    assert T.deadline_days("на завтра запись есть?") == set()  # a booking, not a lead time


def test_a_relative_day_asked_with_readiness_is_the_lead_time_question(tenant_a):
    kb_serve(tenant_a, BAKERY)
    decision = decide_reply(tenant_a, None, ["пирог на завтра успеете?"])
    assert decision.action == "answer" and decision.sources == ["lead-time"]
    decision = decide_reply(tenant_a, None, ["к субботе пирог сделаете?"])
    assert decision.action == "answer" and decision.sources == ["lead-time"]
