"""A thing nothing in the knowledge answers by name is read as what it is made of («шубу срочно почистите?» against
«меха срочно не чистим»), never as what it is a kind of, and only when exactly one item then answers (K; invented
businesses, issue 13)."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import semantics


def test_a_dictionary_says_what_a_thing_is_made_of():
    assert semantics.made_of("шубу") == {"мех"}
    assert semantics.made_of("пуховик") == {"пух"}  # «пуховик» is made from «пух» + «-овик»
    assert semantics.made_of("собаку") == set()  # «одно из … животных» names no material
    assert semantics.made_of("сумку") == set()  # «из ткани, кожи или другого материала»: any fabric tells nothing
    assert semantics.made_of("дублёнку") & {"мех", "кож"} == set()  # not its genus's material («шуба» → «мех»)


def test_a_named_thing_is_read_as_its_material_when_no_item_answers_it(tenant_a):
    kb_serve(
        tenant_a,
        [
            {
                "id": "urgent",
                "question": "Можно ли почистить срочно?",
                "answer": "Срочная чистка за сутки — наценка 50 %. Меха и кожу срочно не чистим.",
            },
            {"id": "fur", "question": "Сколько стоит чистка шубы?", "answer": "Шуба до бедра — 18 000 ₸, длинная — 26 000 ₸."},
            {"id": "tailor", "question": "Сколько стоит ушить одежду?", "answer": "Брюки — 3 000 ₸, платье — 4 000 ₸."},
        ],
    )
    decision = decide_reply(tenant_a, None, ["Шубу срочно почистите?"])
    assert decision.action == "answer" and decision.sources == ["urgent"] and "не чистим" in decision.text
    # The item naming the thing still answers what it answers.
    assert decide_reply(tenant_a, None, ["сколько стоит почистить шубу?"]).sources == ["fur"]
    # A thing the knowledge names is not read as its genus: «ушить шубу» is no «ушить одежду».
    assert decide_reply(tenant_a, None, ["Ушить шубу сколько стоит?"]).action == "escalate"


def test_a_thing_is_not_read_as_what_it_is_a_kind_of(tenant_a):
    kb_serve(
        tenant_a,
        [
            {"id": "rooms", "question": "Какие есть номера?", "answer": "Стандарт (2 гостя, своя ванная) — 25 000 ₸."},
            {"id": "hours", "question": "Во сколько заезд?", "answer": "Заезд с 14:00."},
        ],
    )
    # A jacuzzi is a kind of bath; a room with its own bathroom does not say it has one.
    assert decide_reply(tenant_a, None, ["Есть номер с джакузи?"]).action == "escalate"


def test_two_items_answering_the_material_are_not_chosen_between(tenant_a):
    kb_serve(
        tenant_a,
        [
            {"id": "fur-clean", "question": "Чистите ли вы мех?", "answer": "Чистка изделий из меха — от 18 000 ₸."},
            {"id": "fur-store", "question": "Храните ли вы мех?", "answer": "Хранение меха — 3 000 ₸ в месяц."},
        ],
    )
    assert decide_reply(tenant_a, None, ["шуба сколько стоит?"]).action == "escalate"
