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


WORKSHOP = [
    {"id": "urgent", "question": "Можно починить срочно?",
     "answer": "Срочный ремонт вне очереди — наценка 40 % к стоимости работы. Срочно чиним за 2–3 часа."},
    {"id": "making", "question": "Сколько делается ключ?", "answer": "Ключ изготавливаем от 15 минут до 1 дня."},
    {"id": "prices", "question": "Сколько стоит ключ?", "answer": "Ключ от домофона — 2 500 ₸."},
]


def test_the_nearest_days_said_with_urgency_or_readiness_need_no_preposition():
    assert T.deadline_days("ключ сегодня успеете сделать?") == {"сегодня"}
    assert T.deadline_days("срочно надо, завтра уезжаю") == {"завтра"}
    assert T.deadline_days("завтра работаете?") == set()  # no readiness, no urgency: a day asked about


def test_a_deadline_is_answered_by_a_duration_and_a_surcharge_share_answers_how_much_more(tenant_a):
    # DL2: the day is the asker's situation, answered by how long the work takes; SC: "наценка 40 %" says how much
    # more an urgent job costs, and carries the day of the question it follows.
    kb_serve(tenant_a, WORKSHOP)
    decision = decide_reply(tenant_a, None, ["ключ сегодня успеете сделать?"])
    assert decision.action == "answer" and decision.sources == ["making"]
    decision = decide_reply(tenant_a, None, ["срочно надо починить к завтра, можно? сколько доплата"])
    assert decision.action == "answer" and decision.sources == ["urgent"] and "40 %" in decision.text
    decision = decide_reply(tenant_a, None, ["срочный ремонт насколько дороже?"])
    assert decision.action == "answer" and decision.sources == ["urgent"]


def test_a_share_of_the_price_does_not_answer_what_something_costs(tenant_a):
    kb_serve(tenant_a, WORKSHOP[:1])
    decision = decide_reply(tenant_a, None, ["сколько стоит срочный ремонт?"])
    assert decision.action == "escalate"
