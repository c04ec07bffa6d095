"""Tier resolution (knowledge.tiers) on a business nobody tuned for: a vet clinic that prices surgery
and dental care by the dog's size class and defines the classes (by weight and by breed) in another
item. A customer who names the weight or the breed is answered with that class's line only; a member
the knowledge places in two classes, a class the price item does not name, or a question that names
no service still goes to a human."""

from __future__ import annotations

import json

import pytest

from conversations.answering.brain import decide_reply
from conversations.answering.defaults import validate_answering
from conversations.choices import EscalationReason
from imperium.core.actors import Actor
from knowledge import services, tiers
from knowledge.matching import ItemDoc, KBSnapshot

ACTOR = Actor.system("test")

VET = [
    {"id": "size-classes", "question": "Как определяется размер собаки?",
     "answer": ("Размер собаки определяем по весу на приёме: мини — до 5 кг (чихуахуа, той-терьер); "
                "малые — 5–10 кг (мопс, такса, спаниель); средние — 10–25 кг (бигль, корги, спаниель); "
                "крупные — от 25 кг (лабрадор, овчарка, Husky).")},
    {"id": "price-castration", "question": "Сколько стоит кастрация кобеля?",
     "answer": ("Кастрация кобеля (наркоз, операция, попона): мини — 18 000 ₸, малые — 22 000 ₸, средние — 30 000 ₸, "
                "крупные — 40 000 ₸. Домой в тот же день.")},
    {"id": "price-teeth", "question": "Сколько стоит чистка зубов собаке?",
     "answer": "Ультразвуковая чистка зубов под седацией: мини и малые — 15 000 ₸; средние и крупные — 21 000 ₸."},
    {"id": "price-vaccine", "question": "Сколько стоит вакцинация собаки?",
     "answer": "Комплексная вакцинация собаки — 9 000 ₸, с паспортом."},
    {"id": "hours", "question": "Какой график работы?", "answer": "Клиника работает ежедневно с 09:00 до 21:00."},
]


@pytest.fixture
def vet(tenant_a):
    content = "\n".join(json.dumps(item, ensure_ascii=False) for item in VET)
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    return services.kb_version_promote(actor=ACTOR, version=version)


def _ask(tenant, *messages):
    return decide_reply(tenant, None, list(messages))


@pytest.mark.parametrize(("question", "price", "others", "tier"), [
    ("Сколько стоит кастрация кобеля 12 кг?", "30 000", ("22 000", "40 000", "18 000"), "средние — 10–25 кг"),
    ("кастрация кобеля лабрадора цена", "40 000", ("30 000", "22 000", "18 000"), "крупные — от 25 кг"),
    ("кастрация для чихуахуа сколько стоит", "18 000", ("22 000", "30 000", "40 000"), "мини — до 5 кг"),
    ("кастрация кобеля хаски сколько", "40 000", ("30 000", "22 000", "18 000"), "крупные"),  # Husky written in Cyrillic
    ("кастрация кобеля 60 кг сколько стоит?", "40 000", ("30 000", "22 000", "18 000"), "крупные"),  # an open range
])
def test_a_member_of_a_class_is_answered_with_that_class_line_only(tenant_a, vet, question, price, others, tier):
    decision = _ask(tenant_a, question)
    assert decision.action == "answer", decision.gate
    assert price in decision.text and not any(other in decision.text for other in others), decision.text
    assert decision.text.startswith("Кастрация кобеля (наркоз, операция, попона):")
    assert f"По вашему описанию: {tier}" in decision.text
    assert decision.sources == ["price-castration", "size-classes"]
    segment = decision.detail["segments"][0]
    assert segment["tier"]["reference"] == "size-classes"


def test_two_classes_priced_together_are_quoted_as_the_item_writes_them(tenant_a, vet):
    decision = _ask(tenant_a, "чистка зубов мопсу сколько стоит?")
    assert decision.action == "answer", decision.gate
    assert "мини и малые — 15 000 ₸" in decision.text and "21 000" not in decision.text
    assert "малые — 5–10 кг (мопс, такса, спаниель)" in decision.text


@pytest.mark.parametrize("question", [
    "кастрация кобеля 25 кг сколько стоит?",  # 25 kg is both "10–25 кг" and "от 25 кг"
    "кастрация спаниеля сколько стоит?",  # the spaniel is listed under two classes
])
def test_a_member_the_knowledge_places_in_two_classes_is_never_guessed(tenant_a, vet, question):
    decision = _ask(tenant_a, question)
    assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER, decision.text
    assert decision.detail["missing"]["words"] or decision.detail["missing"]["question"]


@pytest.mark.parametrize("question", [
    "вакцинация лабрадора сколько стоит?",  # the vaccine item names no class: nothing to resolve through
    "для лабрадора сколько стоит?",  # no service named: the class alone answers nothing
    "кастрация кота лабрадора сколько стоит?",  # "кота" is in no entry and not in the item
    "кастрация кобеля 12 кг сколько длится?",  # the class's line states no duration
])
def test_what_the_classes_do_not_settle_still_goes_to_a_human(tenant_a, vet, question):
    decision = _ask(tenant_a, question)
    assert decision.action == "escalate", decision.text
    assert decision.text == ""


def test_the_tier_index_is_read_once_per_snapshot_and_maps_only_what_is_written():
    snapshot = KBSnapshot([ItemDoc(i["id"], i["question"], i["answer"]) for i in VET])
    index = tiers.tier_index(snapshot)
    assert tiers.tier_index(snapshot) is index
    assert [s.reference for s in index.systems] == ["size-classes"]
    assert sorted(index.used_by) == ["price-castration", "price-teeth"]  # the vaccine and hours items name no class
    system = index.systems[0]
    assert sorted(e.label_text for e in system.entries.values()) == ["крупные", "малые", "мини", "средние"]
    assert ("кг", 10.0, 25.0) in system.entries["средн"].ranges


def test_ranges_and_quantities_are_read_with_their_units():
    assert tiers.ranges_in("мини — до 5 кг; 6–9 лет; свыше 25 кг; от 10 до 20 кг") == {
        "кг": [(0.0, 5.0), (25.0, float("inf")), (10.0, 20.0)], "год": [(6.0, 9.0)]}
    assert tiers.quantities_asked("ребёнку 7 лет, собака 12,5 кг") == {"7": ("год", "лет"), "12.5": ("кг", "кг")}


@pytest.mark.parametrize(("cyrillic", "latin", "same"), [
    ("камри", "camry", True), ("крузер", "cruiser", True), ("лэнд", "land", True), ("хаски", "husky", True),
    ("лексус", "lexus", True), ("камри", "corolla", False), ("киа", "kia", False),  # too short to tell apart
])
def test_a_latin_brand_name_is_recognised_in_cyrillic(cyrillic, latin, same):
    skeleton = tiers.cyrillic_skeleton(cyrillic)
    assert (bool(skeleton) and skeleton in tiers.latin_skeletons(latin)) is same


def test_a_release_may_reword_the_tier_reply(tenant_a, vet):
    overrides = {"templates": {"tier_reply": "{line} ({basis})"}}
    assert validate_answering(overrides) == []
    assert validate_answering({"templates": {"tier_reply": "{line} {price}"}})
    decision = decide_reply(tenant_a, None, ["кастрация кобеля лабрадора цена"], release={"answering": overrides})
    assert decision.action == "answer"
    assert decision.text == ("Кастрация кобеля (наркоз, операция, попона): крупные — 40 000 ₸ "
                             "(крупные — от 25 кг (лабрадор, овчарка, Husky))")


# --- answer the fact asked: one entry of a price list (knowledge.focus) ------------------------------

LISTS = [
    {"id": "price-hygiene", "question": "Сколько стоят гигиенические процедуры?",
     "answer": ("Гигиена: стрижка когтей — 2 000 ₸; чистка ушей — 3 000 ₸; чистка параанальных желёз — 4 000 ₸. "
                "Делаем без записи, только в филиале на Абая.")},
    {"id": "price-exam", "question": "Сколько стоит осмотр?",
     "answer": "Первичный осмотр — 5 000 ₸, для щенков до 3 месяцев — бесплатно."},
    {"id": "hours", "question": "Какой график работы?",
     "answer": "Клиника работает ежедневно с 09:00 до 21:00; гигиенические процедуры делаем до 18:00."},
]


@pytest.fixture
def lists(tenant_a):
    content = "\n".join(json.dumps(item, ensure_ascii=False) for item in LISTS)
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    return services.kb_version_promote(actor=ACTOR, version=version)


def test_a_named_entry_of_a_price_list_is_answered_with_that_entry_and_the_items_conditions(tenant_a, lists):
    decision = _ask(tenant_a, "сколько стоит чистка ушей?")
    assert decision.action == "answer" and decision.sources == ["price-hygiene"], decision.gate
    assert decision.text == "Гигиена: чистка ушей — 3 000 ₸. Делаем без записи, только в филиале на Абая."
    assert decision.detail["quoted_lines"] == ["price-hygiene"]


@pytest.mark.parametrize(("question", "why"), [
    ("чистка сколько стоит?", "two entries name a cleaning"),
    ("сколько стоят гигиенические процедуры?", "no entry named"),
    ("осмотр бесплатный?", "'бесплатно' is a value of an entry, not its name: both facts are the answer"),
    ("до скольки делаете гигиенические процедуры?", "prose joined by ';' is complementary facts, never cut"),
])
def test_a_list_is_answered_whole_unless_exactly_one_entry_is_named(tenant_a, lists, question, why):
    decision = _ask(tenant_a, question)
    assert decision.action == "answer", (why, decision.gate)
    item = next(i for i in LISTS if i["id"] == decision.sources[0])
    assert decision.text == item["answer"], why
    assert "quoted_lines" not in decision.detail
