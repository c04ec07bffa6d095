"""A weekday asked («в воскресенье работаете?», «в среду до скольки?») is answered by the schedule that covers it —
«ежедневно», «пн–пт», «с понедельника по субботу» — and never by one that leaves it out (businesses nobody tuned on)."""

from __future__ import annotations

import pytest

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T


@pytest.mark.parametrize(("text", "days"), [
    ("Ежедневно с 07:00 до 23:00.", set(range(7))),
    ("Работаем без выходных, с 10 до 20.", set(range(7))),
    ("Пн–пт с 09:00 до 18:00, сб с 10:00 до 15:00.", {0, 1, 2, 3, 4, 5}),
    ("С понедельника по пятницу с 8 до 17.", {0, 1, 2, 3, 4}),
    ("Занятия по вторникам и четвергам в 19:00.", {1, 3}),
    ("По будням с 10:00 до 13:00 скидка 10 %.", set()),  # a promotion's hours are not the opening hours
    ("Вскрытие и оформление в тот же день.", set()),
])
def test_the_days_a_schedule_names(text, days):
    assert T.days_stated(text) == days


def test_a_business_open_every_day_answers_any_weekday(tenant_a):
    kb_serve(tenant_a, [
        {"id": "hours", "question": "Какой график работы?", "answer": "Ежедневно с 07:00 до 23:00."},
        {"id": "massage", "question": "Есть ли массаж?", "answer": "Спортивный массаж 60 минут — 12 000 ₸."},
    ])
    for question in ("в воскресенье работаете?", "в среду до скольки?", "в субботу во сколько открываетесь?"):
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer" and decision.sources == ["hours"] and "07:00" in decision.text, question
    # The day is not a licence for anything else: a massage on Sunday is not stated anywhere.
    assert decide_reply(tenant_a, None, ["в воскресенье массаж есть?"]).action == "escalate"


def test_a_day_the_schedule_leaves_out_goes_to_a_manager(tenant_a):
    kb_serve(tenant_a, [{"id": "hours", "question": "Какой график работы?", "answer": "Пн–сб с 10:00 до 20:00."}])
    assert decide_reply(tenant_a, None, ["в пятницу до скольки работаете?"]).sources == ["hours"]
    assert decide_reply(tenant_a, None, ["в воскресенье работаете?"]).action == "escalate"


def test_both_branches_answer_a_weekday_neither_names_by_that_word(tenant_a):
    kb_serve(tenant_a, [
        {"id": "hours-center", "question": "Какой график работы филиала в Центре?",
         "answer": "Филиал в Центре работает ежедневно с 09:00 до 21:00."},
        {"id": "hours-north", "question": "Какой график работы филиала на Севере?",
         "answer": "Филиал на Севере работает с понедельника по субботу с 10:00 до 19:00, воскресенье — выходной."},
        {"id": "price", "question": "Сколько стоит стрижка?", "answer": "Стрижка — 5 000 ₸."},
    ])
    decision = decide_reply(tenant_a, None, ["в четверг до скольки работаете?"])
    assert decision.action == "answer" and sorted(decision.sources) == ["hours-center", "hours-north"]
    assert "21:00" in decision.text and "19:00" in decision.text
