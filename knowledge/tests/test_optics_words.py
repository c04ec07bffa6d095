"""OG — eyes and optics in the language glossaries (issue 13): a customer's Kazakh and English words of an optics shop
or an eye check, chat shorthand («для компа», «инсту»), and the eye-care roles and «очки» as generic nouns. Invented
knowledge; general words of the kind of business, never one set's items."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import kazakh
from knowledge import text as T


def test_kazakh_words_of_an_eye_check_and_glasses():
    assert "проверка зрения" in kazakh.to_russian(T.fold("көз тексеру қанша тұрады?"), "көз тексеру қанша тұрады?")
    assert "очки" in kazakh.to_russian(T.fold("көзілдірік бар ма?"), "көзілдірік бар ма?")
    assert "однодневные" in kazakh.to_russian(T.fold("бір күндік линзалар бар ма?"), "бір күндік линзалар бар ма?")


def test_english_words_of_an_eye_check_and_glasses():
    assert "проверка зрения" in T.normalize("How much is an eye test?")
    assert "очки" in T.normalize("Do you repair glasses?")
    assert "контактные линзы" in T.normalize("do you have contact lenses?")


def test_chat_shorthand_and_generic_roles():
    assert "компьютера" in T.normalize("мне очки для компа")
    assert "инстаграм" in T.normalize("инсту вашу скиньте")
    assert T.is_generic("окулист") and T.is_generic("оптометристу") and T.is_generic("очки")


OPTICS = [
    {"id": "check", "question": "Сколько стоит проверка зрения?",
     "answer": "Проверка зрения у оптометриста — 2 500 ₸, занимает 20 минут."},
    {"id": "sun", "question": "Есть ли солнцезащитные очки?", "answer": "Солнцезащитные очки — от 6 000 ₸, с фильтром UV400."},
    {"id": "kids", "question": "Есть ли детские оправы?", "answer": "Детские оправы — от 5 000 ₸, гибкие и небьющиеся."},
]


def test_an_eye_check_asked_in_english_and_kazakh_and_a_frame_for_a_child(tenant_a):
    kb_serve(tenant_a, OPTICS)
    for question in ("How much is an eye test?", "Көз тексеру қанша тұрады?"):
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer" and decision.sources == ["check"], question
    decision = decide_reply(tenant_a, None, ["Балаға көзілдірік жақтауы бар ма?"])
    assert decision.action == "answer" and decision.sources == ["kids"]
    decision = decide_reply(tenant_a, None, ["окулист в субботу работает?"])
    assert "2 500" not in (decision.text or "")
