"""«после» and «перед» relate the asked thing to a moment (issue 13; docs/EVAL.md, "TP"): an item need not write the
same preposition when a fragment holding the other asked words states when ("не позже чем за 24 часа до доставки"); an
item that only names the thing does not answer what to do after it. Invented businesses only."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

FLOWERS = [
    {"id": "changes", "question": "Можно ли изменить заказ?",
     "answer": "Поменять цветы, упаковку или открытку можно бесплатно не позже чем за 24 часа до доставки."},
    {"id": "prices", "question": "Сколько стоит букет?", "answer": "Букеты — от 9 000 ₸, композиции в коробке — от 14 000 ₸."},
    {"id": "delivery", "question": "Есть ли доставка?", "answer": "Доставка по городу — 1 500 ₸, от 25 000 ₸ — бесплатно."},
]

TATTOO = [
    {"id": "about", "question": "Что такое студия Ink?",
     "answer": "Ink — тату-студия в Алматы: татуировки, перекрытие старых татуировок, пирсинг."},
    {"id": "price", "question": "Сколько стоит татуировка?", "answer": "Татуировка — от 15 000 ₸ за час работы, эскиз — бесплатно."},
    {"id": "hours", "question": "Когда вы работаете?", "answer": "Ежедневно с 11:00 до 21:00."},
]


def test_a_time_preposition_the_item_does_not_write_is_no_qualifier(tenant_a):
    kb_serve(tenant_a, FLOWERS)
    decision = decide_reply(tenant_a, None, ["можно поменять цветы после заказа?"])
    assert decision.action == "answer" and decision.sources == ["changes"], decision.gate
    assert "24 часа" in decision.text


def test_what_to_do_after_a_thing_is_not_answered_by_an_item_only_naming_it(tenant_a):
    # A young knowledge without the aftercare item: neither the overview nor the price list says what to do after it
    # (a variant reading «после» as a soft word answered the overview here).
    kb_serve(tenant_a, TATTOO)
    decision = decide_reply(tenant_a, None, ["что нельзя делать после татуировки?"])
    assert decision.action == "escalate", decision.sources
