"""A capacity names people only as counted ("Стандарт (2 гостя)"): it says how many may stay, not that guests may
come. A question about guests without a number or a count is not answered from it."""

from __future__ import annotations

import pytest

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

pytestmark = pytest.mark.django_db

LODGE = [
    {"id": "rooms", "question": "Какие номера есть?",
     "answer": "Номера: Эконом (1–2 гостя, душ на этаже), Стандарт (2 гостя, своя ванная), Люкс (до 4 гостей, камин)."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Посёлок Тау, ул. Горная, 5, у подъёмника."},
]


@pytest.fixture
def lodge(tenant_a):
    return kb_serve(tenant_a, LODGE)


def test_guests_asked_without_a_number_are_not_answered_by_a_capacity(tenant_a, lodge):
    decision = decide_reply(tenant_a, None, ["друзьям можно прийти к нам в гости в номер?"], kb_version=lodge)
    assert decision.action == "escalate" and "rooms" not in decision.sources, decision.text


def test_a_party_size_or_a_count_is_answered_by_the_capacity(tenant_a, lodge):
    decision = decide_reply(tenant_a, None, ["номер на 4 гостей есть?"], kb_version=lodge)
    assert decision.action == "answer" and list(decision.sources) == ["rooms"], decision.detail


def test_the_modal_verb_is_no_topic_in_any_form():
    # "могут", "можем", "сможет" ask whether something is allowed, as "можно" and "может" do.
    assert all(T.is_filler(w) for w in ("можно", "может", "могут", "можем", "сможет", "смогут"))
