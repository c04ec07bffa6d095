"""A customer's verb names the action a price list names by its noun («почистить» / «химчистка», «покрасить» /
«покраска», «стираете» / «стирка»), even when some other item of the knowledge uses the verb itself (invented
businesses; issue 13)."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import matching as M
from knowledge import text as T

RELATIONS = ("synonyms", "hypernyms", "actions", "verbs")


def _snapshot(*docs: tuple[str, str, str]) -> M.KBSnapshot:
    return M.KBSnapshot([M.ItemDoc(external_id=i, question=q, answer=a) for i, q, a in docs], relations=RELATIONS)


def _keys(snapshot: M.KBSnapshot, word: str) -> frozenset[str]:
    return next(t.keys for t in snapshot.analyze(word) if t.text == word)


def test_verb_cores_drop_the_thematic_vowel_and_only_the_aspect_prefix_when_asked():
    assert "стир" in T.verb_cores("стираете")  # ← "стирка"
    assert "чист" in T.verb_cores("почистить", T.ASPECT_PREFIXES)
    assert "работ" not in T.verb_cores("отработать", T.ASPECT_PREFIXES)  # "от-" changes the meaning
    assert all(c.startswith("подш") for c in T.verb_cores("подшить", T.ASPECT_PREFIXES))  # "под-" is not "по-"
    assert T.compound_tail("химчистк") == "чистк" and T.compound_tail("автомойк") == "мойк"
    assert T.compound_tail("химик") is None


def test_a_verb_one_item_uses_still_reaches_the_action_noun_of_the_others():
    snapshot = _snapshot(
        ("urgent", "Можно ли почистить срочно?", "Срочно — наценка 50 %."),
        ("price", "Сколько стоит химчистка пальто?", "Пальто — 7 000 ₸."),
        ("hours", "Какой график работы?", "Ежедневно с 09:00 до 20:00."),
        ("makeup", "Можно ли отработать занятие?", "Пропуск можно отработать в течение месяца."),
    )
    assert "химчистк" in _keys(snapshot, "почистить")
    assert not {"работ", "работа", "работы"} & _keys(snapshot, "отработать")  # the prefix changes the meaning


def test_the_price_list_answers_the_verb_form_of_its_action(tenant_a):
    kb_serve(tenant_a, [
        {"id": "express", "question": "Можно ли покрасить срочно?", "answer": "Срочная работа за 1 день — наценка 30 %."},
        {"id": "price-doors", "question": "Сколько стоит покраска дверей?",
         "answer": "Межкомнатная дверь — 12 000 ₸, входная дверь — 18 000 ₸."},
        {"id": "price-clean", "question": "Сколько стоит химчистка салона?", "answer": "Салон седана — 25 000 ₸."},
        {"id": "clean-fast", "question": "Можно ли почистить за один день?", "answer": "Да, при записи до 10:00."},
    ])
    decision = decide_reply(tenant_a, None, ["сколько стоит покрасить входную дверь?"])
    assert decision.action == "answer" and decision.sources == ["price-doors"] and "18 000" in decision.text
    decision = decide_reply(tenant_a, None, ["салон почистить сколько стоит?"])
    assert decision.action == "answer" and decision.sources == ["price-clean"] and "25 000" in decision.text
    # The action is understood, the object is not: a thing no item names still goes to a manager.
    assert decide_reply(tenant_a, None, ["сколько стоит покрасить забор?"]).action == "escalate"


def test_a_word_the_knowledge_spells_is_not_covered_by_a_word_that_only_begins_like_it(tenant_a):
    # "пуховик" (a down jacket) is written by the zipper item; "пуховое" (of a blanket) only begins like it.
    kb_serve(tenant_a, [
        {"id": "zip", "question": "Сколько стоит замена молнии?", "answer": "Замена молнии: куртка — 4 000 ₸, пуховик — 5 000 ₸."},
        {"id": "textile", "question": "Сколько стоит чистка одеял?", "answer": "Одеяло синтетическое — 4 000 ₸, пуховое — 6 000 ₸."},
    ])
    decision = decide_reply(tenant_a, None, ["сколько стоит чистка пуховика?"])
    assert decision.action == "escalate" and "6 000" not in (decision.text or "")
    # The blanket's own question is still answered by its item.
    decision = decide_reply(tenant_a, None, ["одеяло пуховое сколько стоит?"])
    assert decision.action == "answer" and decision.sources == ["textile"]
