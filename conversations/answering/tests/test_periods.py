"""A period named without a number («на неделю», «через месяц») is a quantity in days, answered by an item stating a
period that holds it in another unit («от 7 ночей», «в течение 14 дней»; U, invented businesses, issue 13)."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T


def test_bare_periods_and_the_spans_an_answer_states_in_days():
    assert T.bare_periods("на неделю скидка есть?") == {"неделю": 7.0}
    assert T.bare_periods("через месяц вернёте?") == {"месяц": 30.0}
    assert T.bare_periods("сколько раз в неделю?") == {} and T.bare_periods("на этой неделе работаете?") == {}
    assert T.bare_periods("2 недели") == {}
    assert T.day_spans("от 7 ночей — 10 %, от 30 ночей — 20 %") == [(7.0, float("inf")), (30.0, float("inf"))]
    assert T.day_spans("в течение 14 дней") == [(0.0, 14.0)] and T.day_spans("Срок — 3 месяца") == [(90.0, 90.0)]


def test_a_week_is_answered_by_a_stay_of_seven_nights(tenant_a):
    kb_serve(
        tenant_a,
        [
            {
                "id": "long-stay",
                "question": "Есть ли скидка при долгом проживании?",
                "answer": "Скидка за длительное проживание: от 7 ночей — 10 %, от 30 ночей — 20 %.",
            },
            {"id": "groups", "question": "Есть ли скидка для групп?", "answer": "Группам от 10 человек — скидка 5 %."},
        ],
    )
    decision = decide_reply(tenant_a, None, ["на неделю скидка есть?"])
    assert decision.action == "answer" and decision.sources == ["long-stay"] and "10 %" in decision.text
    # A rate is no period: "раз в неделю" asks something no item states.
    assert decide_reply(tenant_a, None, ["скидка раз в неделю бывает?"]).action == "escalate"
