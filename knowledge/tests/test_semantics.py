"""Curated lexical relations (knowledge.semantics): a customer's word the knowledge never uses is
covered by a synonym, a more general word (hypernym, safe direction only) or the noun of its
action the knowledge does use; siblings never; the mechanism switches off."""

from __future__ import annotations

import json

import pytest

from conversations.answering.brain import decide_reply
from conversations.choices import EscalationReason
from imperium.core.actors import Actor
from knowledge import semantics, services
from knowledge.matching import ItemDoc, KBSnapshot

ALL = ("synonyms", "hypernyms", "actions")
ACTOR = Actor.system("test")

CAR = [
    ItemDoc("engine", "Сколько стоит мойка двигателя?", "Мойка двигателя с консервацией — 7 000 ₸."),
    ItemDoc("pets", "Убираете шерсть животных?", "Удаление шерсти животных из салона — от 8 000 ₸."),
    ItemDoc("wash", "Сколько стоит мойка кузова?", "Мойка кузова — 3 000 ₸, комплексная мойка — 6 000 ₸."),
    ItemDoc("manicure", "Сколько стоит маникюр?", "Маникюр классический — 5 000 ₸."),
]


def _valid(snapshot: KBSnapshot, item: str, text: str) -> bool:
    segment = snapshot.segments([text])[0]
    return snapshot.match(item, segment).valid


def test_a_synonym_the_knowledge_uses_covers_the_word():
    on, off = KBSnapshot(CAR, relations=ALL), KBSnapshot(CAR)
    assert _valid(on, "engine", "сколько стоит мойка мотора?")
    assert not _valid(off, "engine", "сколько стоит мойка мотора?")  # the mechanism off: a word no item uses


def test_a_sibling_is_not_a_synonym():
    snapshot = KBSnapshot(CAR, relations=ALL)
    assert not _valid(snapshot, "manicure", "сколько стоит педикюр?")
    assert semantics.Relations(snapshot.vocabulary).keys_for("педикюр") == set()


def test_a_synset_whose_members_the_business_tells_apart_covers_neither():
    # "движок" means "мотор" and "двигатель"; a business that writes both sells two things.
    docs = [ItemDoc("engine", "Ремонт двигателя?", "Ремонт двигателя — от 50 000 ₸."),
            ItemDoc("motor", "Ремонт лодочного мотора?", "Ремонт лодочного мотора — от 30 000 ₸.")]
    snapshot = KBSnapshot(docs, relations=ALL)
    assert not _valid(snapshot, "engine", "ремонт движка сколько?")
    assert not _valid(snapshot, "motor", "ремонт движка сколько?")


def test_a_hypernym_covers_the_specific_word_only():
    snapshot = KBSnapshot(CAR, relations=ALL)
    # The item states the general case ("животных"): the dog is covered.
    assert _valid(snapshot, "pets", "шерсть от собаки убираете?")
    # Never the reverse: an item about dogs does not answer a question about animals.
    dogs = KBSnapshot([ItemDoc("dogs", "Убираете шерсть собак?", "Удаление шерсти собак — от 8 000 ₸.")], relations=ALL)
    assert not _valid(dogs, "dogs", "шерсть животных убираете?")
    assert not KBSnapshot(CAR, relations=("synonyms",)).analyze("собаки")[0].known  # hypernyms off


def test_a_hypernym_the_business_divides_into_kinds_covers_no_other_kind():
    plain = [ItemDoc("polish", "Полировка автомобиля?", "Полировка автомобиля — 60 000 ₸.")]
    assert _valid(KBSnapshot(plain, relations=ALL), "polish", "полировка кроссовера сколько?")
    kinds = [*plain, ItemDoc("sedan", "Полировка седана?", "Полировка седана — 50 000 ₸.")]
    assert not _valid(KBSnapshot(kinds, relations=ALL), "polish", "полировка кроссовера сколько?")


def test_a_verb_is_covered_by_the_noun_of_its_action():
    snapshot = KBSnapshot(CAR, relations=ALL)
    assert _valid(snapshot, "wash", "кузов помоете? сколько стоит")
    assert not _valid(KBSnapshot(CAR, relations=("synonyms", "hypernyms")), "wash", "кузов помоете? сколько стоит")


def test_only_nouns_and_verbs_are_read():
    # "вон" shares its stem with the noun "вонь": an adverb reads as nothing.
    assert semantics.reading("вон") is None and semantics.reading("нормально") is None
    assert semantics.reading("сына") == ("noun", "сын")
    assert semantics.reading("помоете") == ("verb", "мыть")


@pytest.fixture
def car_wash(tenant_a):
    content = "\n".join(json.dumps({"id": d.external_id, "question": d.question, "answer": d.answer}, ensure_ascii=False)
                        for d in CAR)
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    return services.kb_version_promote(actor=ACTOR, version=version)


def test_the_setting_switches_the_mechanism(tenant_a, car_wash, settings):
    from knowledge.retrieval import clear_caches

    settings.KNOWLEDGE_LEXICAL_RELATIONS = ALL
    decision = decide_reply(tenant_a, None, ["Сколько стоит мойка мотора?"])
    assert decision.action == "answer" and decision.sources == ["engine"] and "7 000" in decision.text
    settings.KNOWLEDGE_LEXICAL_RELATIONS = ()
    clear_caches()
    decision = decide_reply(tenant_a, None, ["Сколько стоит мойка мотора?"])
    assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER
    assert decision.text == ""


def test_the_committed_table_is_sorted_for_bisection():
    import gzip

    lines = [line for line in gzip.decompress(semantics.DATA.read_bytes()).decode().splitlines() if not line.startswith("#")]
    keys = [line.rsplit("\t", 1)[0].encode() for line in lines]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    packed = semantics.table()
    for line in lines[:: max(1, len(lines) // 300)]:
        name, key, value = line.split("\t")
        assert packed.get(name, key) == value
    assert packed.get("syn", "нетакогослова") == ""


# --- (d) a verb no item uses is the question's predicate -------------------------------------------

DANCE = [
    ItemDoc("trial", "Сколько стоит пробное занятие?", "Пробное занятие — 3 000 ₸, длится 60 минут."),
    ItemDoc("refund", "Вернёте деньги за абонемент?", "Если ребёнок болеет больше недели, переносим занятия по справке."),
    ItemDoc("delete", "Удаляете тату?", "Удаление тату лазером — от 15 000 ₸."),
    ItemDoc("cover", "Перекрываете тату?", "Перекрыть старое тату новым можно, эскиз — 5 000 ₸."),
]


def test_verb_forms_are_read_from_the_committed_table():
    for verb in ("ведет", "ведёт", "проходят", "заболел", "надеть", "ездите", "открыт", "почистить"):
        assert semantics.is_verb_form(verb), verb
    # A likelier noun, pronoun or numeral reading is no verb; nouns, adjectives and adverbs neither.
    for other in ("стекла", "мой", "три", "зал", "подарок", "седан", "утром", "дешевле", "опытный", "", "skok"):
        assert not semantics.is_verb_form(other), other


def test_a_verb_no_item_uses_does_not_block_the_answer():
    on, off = KBSnapshot(DANCE, relations=(*ALL, "verbs")), KBSnapshot(DANCE, relations=ALL)
    question = "хотим сходить на пробное занятие, сколько стоит?"
    assert _valid(on, "trial", question)
    assert not _valid(off, "trial", question)  # "сходить" blocked it before
    token = next(t for t in on.analyze(question) if t.text == "сходить")
    assert token.kind == "soft" and not token.known


def test_an_unknown_noun_or_adjective_still_blocks_and_a_known_verb_still_tells_items_apart():
    snapshot = KBSnapshot(DANCE, relations=(*ALL, "verbs"))
    assert not _valid(snapshot, "trial", "пробное занятие по акробатике сколько стоит?")  # a qualifier
    assert not _valid(snapshot, "trial", "пробное индивидуальное занятие сколько стоит?")
    # "перекрыть" is a word of the knowledge: a question about covering is not answered by the removal item.
    assert not _valid(snapshot, "delete", "тату перекрыть можно?")
    assert _valid(snapshot, "cover", "тату перекрыть можно?")


def test_a_learned_item_is_not_answered_through_a_verb_it_does_not_use():
    # A learned item's question is one customer's wording, not the business's description of the topic: the
    # verb another customer uses may be exactly what the manager's answer was not about.
    learned = [ItemDoc("trial", "сколько стоит пробное занятие", "Пробное занятие — 3 000 ₸.", tags=("learned",))]
    question = "хотим сходить на пробное занятие, можно?"
    assert not _valid(KBSnapshot(learned, relations=(*ALL, "verbs")), "trial", question)
    curated = [ItemDoc("trial", "сколько стоит пробное занятие", "Пробное занятие — 3 000 ₸.")]
    assert _valid(KBSnapshot(curated, relations=(*ALL, "verbs")), "trial", question)
    # Asked the price, the verb names what is priced, and the learned item states that price (LV).
    assert _valid(KBSnapshot(learned, relations=(*ALL, "verbs")), "trial", "хотим сходить на пробное занятие, сколько стоит?")


def test_the_verb_table_is_sorted_and_deduplicated():
    hashes = semantics._verb_hashes()
    assert len(hashes) > 400_000
    assert all(a < b for a, b in zip(hashes, hashes[1:], strict=False))


def test_a_verb_in_a_condition_clause_is_the_askers_condition_and_still_blocks():
    snapshot = KBSnapshot(DANCE, relations=(*ALL, "verbs"))
    assert _valid(snapshot, "trial", "хотим сходить на пробное занятие, сколько стоит?")
    assert _valid(snapshot, "trial", "пробное занятие сколько стоит? очень хотим потанцевать")
    assert not _valid(snapshot, "trial", "пробное занятие сколько стоит, если заикаемся?")
    assert not _valid(snapshot, "trial", "пока побаливает, пробное занятие можно?")
    # "когда" and "раз" are question words and counts too: they open no condition.
    assert _valid(snapshot, "trial", "когда хотим сходить на пробное занятие, сколько стоит?")
    assert _valid(snapshot, "trial", "пробное занятие сколько раз можно сходить и сколько стоит?")
