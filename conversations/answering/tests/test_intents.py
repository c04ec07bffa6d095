"""The toxic net catches the coarse words and insults of any business's chat, in Cyrillic, Latin script and English,
and leaves ordinary questions with look-alike words alone."""

from __future__ import annotations

import pytest

from conversations.answering import intents
from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve


@pytest.mark.parametrize("text", [
    "ваши торты говно", "vashi torty govno", "сервис отстой", "хрень какая-то, а не обслуживание", "это дерьмо",
    "фигня полная", "пошли вы", "пошёл ты", "вы мудаки", "лохотрон", "your cakes suck", "what a crap service",
    "шошқа", "позорище, а не салон",
])
def test_coarse_words_and_insults_are_toxic(text):
    assert intents.detect(text)["toxic"], text


@pytest.mark.parametrize("text", [
    "сколько рублей", "пошлите курьера за платьем", "дочка пошла на танцы, можно ей второй абонемент",
    "есть ли говяжий фарш", "хрен добавляете в соус", "сукно чистите", "гавань далеко от вас",
    "пошла ли оплата", "в субботу работаете",
])
def test_look_alike_words_are_not(text):
    assert not intents.detect(text)["toxic"], text


def test_an_insult_about_the_product_goes_to_a_manager_not_to_the_nearest_item(tenant_a):
    kb_serve(tenant_a, [{"id": "pickup", "question": "Можно ли забрать торт самому?",
                         "answer": "Самовывоз бесплатный — из цеха на ул. Абая, 10."}])
    decision = decide_reply(tenant_a, None, ["ваши торты говно"])
    assert decision.action == "escalate" and decision.reason == "toxic"
