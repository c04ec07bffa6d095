"""Delivery is what a courier does (issue 13; docs/EVAL.md, "DC"): a customer asks about «доставка» where the business
writes «курьер привезёт», and the other way round. Invented businesses only."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

PHARMACY = [
    {"id": "courier", "question": "Есть ли у вас курьер?",
     "answer": "Курьер привезёт заказ по городу: 1 000 ₸, от 15 000 ₸ — бесплатно. В пригород (Талгар, Иргели) — 2 500 ₸."},
    {"id": "hours", "question": "Когда вы работаете?", "answer": "Ежедневно с 08:00 до 22:00."},
    {"id": "prescription", "question": "Нужен ли рецепт?", "answer": "Рецептурные препараты отпускаем только по рецепту врача."},
]

BAKERY = [
    {"id": "delivery", "question": "Есть ли доставка?", "answer": "Доставка по городу — 1 500 ₸, с 09:00 до 21:00."},
    {"id": "pickup", "question": "Можно ли забрать самому?", "answer": "Самовывоз из цеха на ул. Жибек жолы, 12, с 09:00 до 20:00."},
]


def test_delivery_is_answered_by_the_courier_item(tenant_a):
    kb_serve(tenant_a, PHARMACY)
    decision = decide_reply(tenant_a, None, ["доставка в Талгар сколько стоит?"])
    assert decision.action == "answer" and decision.sources == ["courier"], decision.gate
    assert "2 500" in decision.text


def test_a_courier_is_answered_by_the_delivery_item(tenant_a):
    kb_serve(tenant_a, BAKERY)
    decision = decide_reply(tenant_a, None, ["курьер есть?"])
    assert decision.action == "answer" and decision.sources == ["delivery"], decision.gate
