"""Chat shorthand any customer writes (issue 13, docs/EVAL.md "CS"): «чё» / «щас» / «налом» / «безнал» / «инфу» /
«оч» read as the words a business writes, thousands written short after a number («5к», «15 тыс»). Invented
businesses only."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

LAUNDRY = [
    {"id": "payment", "question": "Как можно оплатить?",
     "answer": "Оплата наличными, картой или безналичным переводом для юрлиц."},
    {"id": "hours", "question": "Режим работы", "answer": "Работаем ежедневно с 09:00 до 20:00."},
    {"id": "prices", "question": "Сколько стоит химчистка пальто?", "answer": "Химчистка пальто — от 6 000 ₸."},
]


def test_shorthand_words_are_read_as_the_plain_words():
    assert T.normalize("Чё по ценам?") == "что по ценам?"
    assert T.normalize("можно налом?") == "можно наличными?"
    assert T.normalize("по безналу можно") == "по безналичному можно"
    assert T.normalize("щас открыты?") == "сейчас открыты?"
    assert T.normalize("инфу скиньте") == "информацию скиньте"


def test_thousands_written_short_are_the_number():
    assert T.normalize("бюджет 5к") == "бюджет 5000"
    assert T.normalize("до 15 тыс") == "до 15000"
    assert T.normalize("1,5 тыщи") == "1500"
    assert T.normalize("приду в 5 к вам") == "приду в 5 к вам"  # the preposition, not a thousand
    assert T.normalize("через 2ч") == "через 2 часа" and T.normalize("60 км/ч") == "60 км/ч"


def test_a_shorthand_question_is_answered_like_the_plain_one(tenant_a):
    kb_serve(tenant_a, LAUNDRY)
    decision = decide_reply(tenant_a, None, ["а налом можно?"])
    assert decision.action == "answer" and decision.sources == ["payment"]
    decision = decide_reply(tenant_a, None, ["по безналу оплатить можно?"])
    assert decision.action == "answer" and decision.sources == ["payment"]
    decision = decide_reply(tenant_a, None, ["чё по ценам на химчистку пальто?"])
    assert decision.action == "answer" and decision.sources == ["prices"]
