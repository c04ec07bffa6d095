"""The asker's occasion (issue 13, docs/EVAL.md "OC"): "сладкий стол на день рождения", "торт на др сыну" — what the
thing is for, said with a preposition of purpose, is the asker's situation when no item names the occasion; when one
does, it is that item's question and the items that do not name it cannot answer as if it applied. Invented business."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

FLOWERS = [
    {"id": "bouquets", "question": "Сколько стоит букет?",
     "answer": "Букеты из сезонных цветов — от 8 000 ₸, из роз — от 12 000 ₸. Упаковка входит в цену."},
    {"id": "wedding", "question": "Делаете ли свадебные букеты?",
     "answer": "Свадебный букет невесты — от 20 000 ₸, бутоньерка жениху — 3 000 ₸. Заказ — за 5 дней."},
    {"id": "balloons", "question": "Делаете ли оформление шарами?",
     "answer": "Оформление шарами — от 30 000 ₸: арка, фонтаны из шаров, цифры. Заказ — за 2 дня."},
    {"id": "discounts", "question": "Есть ли скидки?", "answer": "Студентам — скидка 5 % по студенческому билету."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Алматы, ул. Цветочная, 7, вход с улицы."},
]


def test_an_occasion_is_read_only_after_a_preposition_of_purpose_and_never_in_an_offer_question():
    assert T.occasions(T.normalize("сладкий стол на день рождения сколько стоит")) == {"рождения": "birthday"}
    assert T.occasions(T.normalize("торт на др сыну")) == {"др": "birthday"}
    assert T.occasions(T.normalize("букет на свадьбу")) == {"свадьбу": "wedding"}
    assert T.occasions_named("Свадебный букет невесты — от 20 000 ₸") == {"wedding"}
    assert not T.occasions(T.normalize("скидка на день рождения есть?"))  # an offer: the occasion selects it
    assert not T.occasions(T.normalize("можно провести свадьбу у вас?"))  # the occasion is what is asked for
    assert not T.occasions(T.normalize("в день рождения работаете?"))  # a day, not a purpose


def test_an_occasion_no_item_names_is_the_askers_situation(tenant_a):
    kb_serve(tenant_a, FLOWERS)
    decision = decide_reply(tenant_a, None, ["сколько стоит оформление шарами на день рождения?"])
    assert decision.action == "answer" and decision.sources == ["balloons"] and "30 000" in decision.text
    decision = decide_reply(tenant_a, None, ["шары на др дочке сколько?"])
    assert decision.action == "answer" and decision.sources == ["balloons"]


def test_an_occasion_an_item_names_is_that_items_and_an_offer_still_needs_its_own(tenant_a):
    kb_serve(tenant_a, FLOWERS)
    decision = decide_reply(tenant_a, None, ["букет на свадьбу сколько стоит?"])
    assert decision.action == "answer" and decision.sources == ["wedding"] and "8 000" not in decision.text
    decision = decide_reply(tenant_a, None, ["скидка на день рождения есть?"])
    assert decision.action == "escalate"
    decision = decide_reply(tenant_a, None, ["можно провести свадьбу у вас?"])
    assert decision.action == "escalate"
