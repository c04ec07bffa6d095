"""A verb whose root vowel alternates between the aspects ("заберёте" / "забираем", "вызовете" / "вызываем") is one
verb for the knowledge (AA). Invented business (issue 13)."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

BIKES = [
    {"id": "repair", "question": "Сколько стоит ремонт велосипеда?",
     "answer": "Ремонт велосипеда: замена камеры — 2 000 ₸, настройка переключателей — 3 500 ₸, полное ТО — 12 000 ₸. "
               "Готовый велосипед заберёте в мастерской."},
    {"id": "pickup", "question": "Вы забираете велосипеды из дома?",
     "answer": "Велосипеды забираем из дома и привозим обратно бесплатно при заказе от 10 000 ₸; иначе — 2 000 ₸."},
    {"id": "storage", "question": "Храните велосипеды зимой?",
     "answer": "Зимнее хранение велосипеда — 3 000 ₸ в месяц, в отапливаемом помещении."},
]


def test_both_aspects_of_an_alternating_root_share_one_skeleton():
    assert T.aspect_skeleton("заберете") == T.aspect_skeleton("забираем") == T.aspect_skeleton("забрать") == "забр"
    assert T.aspect_skeleton("вызовете") == T.aspect_skeleton("вызываем") == "вызв"
    assert T.aspect_skeleton("забронировать") == ""  # root "брон-", not "бр-"
    assert T.aspect_skeleton("запишу") == T.aspect_skeleton("забыть") == ""


def test_a_perfective_question_reaches_the_item_written_with_the_imperfective(tenant_a):
    kb_serve(tenant_a, BIKES)
    decision = decide_reply(tenant_a, None, ["велосипед заберете из дома?"])
    assert decision.action == "answer" and decision.sources == ["pickup"]
    assert "12 000" not in decision.text
