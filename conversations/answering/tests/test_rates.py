"""A price asked per unit is a rate (issue 13; docs/EVAL.md, "RT"): "сколько за ночь?", "в час", "за кг" are answered by
the item stating a price per that unit — however far its heading's "за ночь" stands from the entry — not by an item that
only counts one unit inside a bundle ("одна ночь … с завтраком и баня — 60 000 ₸"). Invented businesses only."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

LODGE = [
    {"id": "prices", "question": "Сколько стоит номер?",
     "answer": "Цены за ночь (будни / выходные): Эконом — 15 000 / 18 000 ₸, Люкс — 30 000 / 36 000 ₸, "
               "домик у озера — 42 000 / 50 000 ₸. Завтрак включён."},
    {"id": "gift", "question": "Есть ли подарочный сертификат?",
     "answer": "Сертификат «Выходные у озера»: одна ночь в домике у озера с ужином и час сауны — 65 000 ₸. "
               "Действует 6 месяцев."},
    {"id": "sauna", "question": "Есть ли сауна?", "answer": "Сауна на 6 человек, с 15:00 до 23:00. Записаться — на ресепшене."},
    {"id": "checkin", "question": "Во сколько заезд?", "answer": "Заезд с 14:00, выезд до 12:00."},
]


def test_a_rate_is_answered_by_the_price_list_per_that_unit_not_by_a_bundle(tenant_a):
    kb_serve(tenant_a, LODGE)
    decision = decide_reply(tenant_a, None, ["домик сколько за ночь?"])
    assert decision.action == "answer" and decision.sources == ["prices"], decision.gate
    assert "42 000" in decision.text and "65 000" not in decision.text


def test_a_rate_no_item_states_is_not_answered_by_a_bundle_counting_the_unit(tenant_a):
    # The sauna's price per hour is stated nowhere; the certificate's "час сауны" is one hour inside a bundle.
    kb_serve(tenant_a, LODGE)
    decision = decide_reply(tenant_a, None, ["сауна сколько стоит в час?"])
    assert "65 000" not in decision.text
    assert decision.action == "escalate"


def test_rate_phrases_are_not_lead_times_days_of_an_event_or_frequencies():
    assert T.rates_asked(T.normalize("шале сколько за ночь?")) == {"ночь": "ночь"}
    assert T.rates_asked(T.normalize("торт за кило почём?")) == {"кило": "кг"}
    for text in ("отменю за день до выдачи", "в день рождения скидка есть?", "сколько раз в неделю занятия?"):
        assert T.rates_asked(T.normalize(text)) == {}, text
    assert T.rates_stated("Баня — 8 000 ₸ в час.") == {"час"}
    assert T.rates_stated("1 ночь — 20 000 ₸") == {"ночь"}
    assert T.rates_stated("одна ночь в домике с ужином и час сауны — 65 000 ₸") == set()
