"""A general item answers of each thing the business serves (issue 13, docs/EVAL.md "GT"): «Сколько дней занимает ремонт?»
answers "сколько дней ремонт сапог?" when the price list names boots; a thing the knowledge never names, names only as
refused, or names beside another kind in the item's own question stays a manager's question. Invented business."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

SHOES = [
    {"id": "prices", "question": "Сколько стоит ремонт обуви?",
     "answer": "Ремонт обуви и сумок: набойки — 3 000 ₸; сапоги, ботильоны — замена молнии 5 000 ₸; "
               "кроссовки — подклейка подошвы 4 000 ₸; сумки, ремни — замена фурнитуры 3 500 ₸."},
    {"id": "timing", "question": "Сколько дней занимает ремонт?",
     "answer": "Обычный срок — 2 рабочих дня; сложный ремонт — до 5 дней."},
    {"id": "warranty", "question": "Есть ли гарантия на ремонт?",
     "answer": "Гарантия на работу — 30 дней: если отклеится подошва или разойдётся шов, исправим бесплатно."},
    {"id": "urgent-bags", "question": "Делаете срочный ремонт сумок?",
     "answer": "Срочный ремонт сумок — за 1 день, наценка 50 %."},
    {"id": "not-accepted", "question": "Что вы не принимаете в ремонт?",
     "answer": "Не принимаем в ремонт: чемоданы, зонты и резиновую обувь."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Алматы, ул. Сапожная, 3."},
]


def test_a_general_item_answers_of_a_thing_the_price_list_names(tenant_a):
    kb_serve(tenant_a, SHOES)
    decision = decide_reply(tenant_a, None, ["сколько дней ремонт сапог?"])
    assert decision.action == "answer" and decision.sources == ["timing"] and "2 рабочих" in decision.text
    decision = decide_reply(tenant_a, None, ["гарантия на кроссовки есть?"])
    assert decision.action == "answer" and decision.sources == ["warranty"] and "30 дней" in decision.text


def test_a_thing_the_knowledge_does_not_serve_stays_a_qualifier(tenant_a):
    kb_serve(tenant_a, SHOES)
    # named nowhere
    assert decide_reply(tenant_a, None, ["гарантия на велосипед есть?"]).action == "escalate"
    # named only where the business refuses it
    assert decide_reply(tenant_a, None, ["сколько дней ремонт чемодана?"]).action == "escalate"


def test_a_price_is_of_the_thing_and_not_generalised(tenant_a):
    kb_serve(tenant_a, SHOES)
    # «Срочный ремонт сумок» is of bags; a belt is another kind the knowledge lists beside them
    assert decide_reply(tenant_a, None, ["ремень срочно сделаете?"]).action == "escalate"
