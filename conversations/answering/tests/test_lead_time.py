"""«За сколько заказывать?» asks how far ahead, which an item states as «минимум за 3 дня» — not the price a bare
«за сколько» could mean («за сколько продаёте?»)."""

from __future__ import annotations

import pytest

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

STUDIO = [
    {"id": "rent", "question": "Сколько стоит аренда зала?", "answer": "Аренда зала — 8 000 ₸ в час, минимум 2 часа."},
    {"id": "booking", "question": "Как забронировать зал?",
     "answer": "Бронируйте зал минимум за 3 дня через Instagram, предоплата 50 %."},
]


@pytest.mark.parametrize("question", ["за сколько бронировать зал?", "зал за сколько надо заказывать?"])
def test_how_far_ahead_is_answered_by_the_item_stating_the_lead_time(tenant_a, question):
    kb_serve(tenant_a, STUDIO)
    decision = decide_reply(tenant_a, None, [question])
    assert decision.action == "answer" and decision.sources == ["booking"] and "за 3 дня" in decision.text, decision.gate[-1]
    assert "8 000" not in decision.text


def test_a_bare_za_skolko_still_asks_the_price(tenant_a):
    # Without an ordering or booking verb «за сколько» is "for how much": the rent item answers, not the lead time.
    kb_serve(tenant_a, STUDIO)
    decision = decide_reply(tenant_a, None, ["за сколько можно снять зал на час?"])
    assert decision.action == "answer" and decision.sources == ["rent"] and "8 000" in decision.text, decision.gate[-1]
