"""Sibling items and the general one (issue 13, docs/EVAL.md "GV"): "сколько стоит букет?" ties the general price list
with the wedding bouquet and the dried-flower bouquets; those name a variant the customer did not say beside the noun
and state their price of it, so the general item answers. Invented business."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

FLOWERS = [
    {"id": "bouquets", "question": "Сколько стоит букет на заказ?",
     "answer": "Букеты на заказ считаем по цветам: из сезонных цветов — от 8 000 ₸, из роз — от 12 000 ₸. "
               "Упаковка и открытка входят в цену."},
    {"id": "wedding", "question": "Сколько стоит свадебный букет?",
     "answer": "Свадебный букет невесты — от 20 000 ₸, бутоньерка жениху — 3 000 ₸. Открытка — в подарок. "
               "Заказ — за 5 дней."},
    {"id": "dried", "question": "Есть ли букеты из сухоцветов?",
     "answer": "Букеты из сухоцветов — от 15 000 ₸, стоят до года без воды."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Алматы, ул. Цветочная, 7, вход с улицы."},
]


def test_of_siblings_naming_variants_the_customer_did_not_say_the_general_item_answers(tenant_a):
    kb_serve(tenant_a, FLOWERS)
    decision = decide_reply(tenant_a, None, ["сколько стоит букет?"])
    assert decision.action == "answer" and decision.sources == ["bouquets"] and "8 000" in decision.text
    decision = decide_reply(tenant_a, None, ["сколько стоит свадебный букет?"])
    assert decision.action == "answer" and decision.sources == ["wedding"]


def test_the_general_item_must_state_the_fact_of_what_else_was_asked(tenant_a):
    kb_serve(tenant_a, FLOWERS)
    # Both name the card; the general item only as included, with no price of its own beside it: the tie stays a
    # manager's question (the card may be a third item's, or priced apart).
    decision = decide_reply(tenant_a, None, ["открытка к букету платная?"])
    assert decision.action == "escalate"
