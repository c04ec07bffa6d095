"""A follow-up that refers back with a pronoun («кто делает наращивание? какой у неё стаж») asks about the person the
earlier answer named: of the items tying on the follow-up's own words, the one naming that person answers it."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

ITEMS = [
    {"id": "price-lashes", "question": "Сколько стоит наращивание ресниц?",
     "answer": "Классика — 9 000 ₸, объём 2D — 12 000 ₸. Наращивание делает мастер Алина Сергеевна."},
    {"id": "masters-brows", "question": "Кто у вас мастера по бровям?",
     "answer": "Мастера по бровям: Алина Сергеевна — стаж 6 лет; Дана Ерлановна — стаж 3 года."},
    {"id": "masters-nails", "question": "Какие у вас мастера маникюра?",
     "answer": "Мастера маникюра: Гульнара Ахметовна — стаж 10 лет; Ольга Петровна — стаж 4 года."},
]


def test_the_pronoun_takes_the_person_the_earlier_answer_named(tenant_a):
    kb_serve(tenant_a, ITEMS)
    decision = decide_reply(tenant_a, None, ["Кто делает наращивание ресниц? какой у нее стаж"])
    assert decision.action == "answer"
    assert decision.sources == ["price-lashes", "masters-brows"]
    assert "6 лет" in decision.text and "10 лет" not in decision.text


def test_without_an_earlier_answer_the_tie_goes_to_a_manager(tenant_a):
    kb_serve(tenant_a, ITEMS)
    decision = decide_reply(tenant_a, None, ["какой у нее стаж"])
    assert decision.action == "escalate" and decision.reason == "ambiguous"


def test_an_earlier_answer_naming_someone_else_does_not_decide(tenant_a):
    kb_serve(tenant_a, [*ITEMS, {"id": "price-pedicure", "question": "Сколько стоит педикюр?",
                                 "answer": "Педикюр — 8 000 ₸, делает мастер Жанна Олеговна."}])
    decision = decide_reply(tenant_a, None, ["Сколько стоит педикюр? какой у нее стаж"])
    assert decision.action == "escalate" and decision.reason == "ambiguous"
