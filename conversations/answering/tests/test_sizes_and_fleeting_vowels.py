"""A size the asker states is their situation when the item prices per square metre («ковёр 2 на 3» against «2 500 ₸ за
м²»), and a noun with a fleeting vowel reads as its other stem («ковёр» / «ковра», «замок» / «замка»); invented
businesses (issue 13)."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T


def test_fleeting_vowel_forms_and_sizes():
    assert "ковр" in T.fleeting_vowel_forms("ковер") and "замк" in T.fleeting_vowel_forms("замок")
    assert "ковер" in T.fleeting_vowel_forms("ковры")
    assert T.fleeting_vowel_forms("пальто") == [] and T.fleeting_vowel_forms("центр") == []
    assert T.area_numbers("плитка 2 на 3") == {"2", "3"} and T.area_numbers("комната 3х4,5") == {"3", "4,5"}
    assert T.area_numbers("пол 18 квадратов") == {"18"} and T.area_numbers("с 10 до 20") == set()
    assert T.area_numbers("2 на 3 часа") == set()
    assert T.per_area("Укладка ламината — 3 000 ₸ за м².") and not T.per_area("Площадь зала 40 м², аренда 5 000 ₸.")


def test_a_size_is_answered_by_the_rate_per_square_metre(tenant_a):
    kb_serve(tenant_a, [
        {"id": "laminate", "question": "Сколько стоит укладка ламината?", "answer": "Укладка ламината — 3 000 ₸ за м²."},
        {"id": "tile", "question": "Сколько стоит укладка плитки?", "answer": "Укладка плитки — 6 000 ₸."},
    ])
    decision = decide_reply(tenant_a, None, ["ламинат 3 на 4 уложить сколько будет?"])
    assert decision.action == "answer" and decision.sources == ["laminate"] and "3 000" in decision.text
    # Not per square metre: the size is a number the item does not answer.
    assert decide_reply(tenant_a, None, ["плитка 2 на 3 сколько будет?"]).action == "escalate"


def test_a_noun_with_a_fleeting_vowel_is_the_items_noun(tenant_a):
    kb_serve(tenant_a, [
        {"id": "locks", "question": "Сколько стоит замена замка?", "answer": "Замена дверного механизма — 8 000 ₸."},
        {"id": "keys", "question": "Делаете ли дубликаты ключей?", "answer": "Дубликат ключа — 1 500 ₸."},
    ])
    decision = decide_reply(tenant_a, None, ["замок поменять сколько стоит?"])
    assert decision.action == "answer" and decision.sources == ["locks"] and "8 000" in decision.text
