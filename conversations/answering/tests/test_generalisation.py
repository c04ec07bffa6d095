"""Issue 13: the offline brain on a business nobody tuned for (a pet-grooming salon with two
branches, written for these tests). Paraphrase words that carry no qualifier are answered;
siblings and things no item names still go to a human; two branches asked without naming one are
both answered only when the question was fully understood; a burst with one part the knowledge
cannot answer is handed over whole."""

from __future__ import annotations

import json

import pytest

from conversations.answering.brain import decide_reply
from conversations.choices import EscalationReason
from imperium.core.actors import Actor
from knowledge import services
from knowledge import text as T
from knowledge.matching import ItemDoc, KBSnapshot

ACTOR = Actor.system("test")

GROOMING = [
    {"id": "price-dog", "question": "Сколько стоит груминг собаки?",
     "answer": "Комплексный груминг собаки мелкой породы — 12 000 ₸, крупной — 18 000 ₸. Длится 2–3 часа."},
    {"id": "price-cat", "question": "Сколько стоит груминг кошки?", "answer": "Комплексный груминг кошки — 10 000 ₸, длится 1,5 часа."},
    {"id": "claws", "question": "Стрижёте когти?", "answer": "Стрижка когтей — 2 000 ₸, без записи, 10 минут."},
    {"id": "hours-center", "question": "Какой график работы филиала в Центре?",
     "answer": "Филиал в Центре работает ежедневно с 09:00 до 21:00, в субботу с 10:00 до 18:00."},
    {"id": "hours-north", "question": "Какой график работы филиала на Севере?",
     "answer": "Филиал на Севере работает с понедельника по пятницу с 10:00 до 20:00, в субботу с 11:00 до 17:00."},
    {"id": "late", "question": "Что будет, если я опоздаю?",
     "answer": ("При опоздании до 15 минут груминг проводится полностью; при опоздании более 15 минут время сокращается "
                "или визит переносится.")},
    {"id": "bath", "question": "Сколько стоит купание собаки?", "answer": "Купание собаки (45 минут) — 6 000 ₸."},
    {"id": "holidays", "question": "Работаете в праздники?",
     "answer": "31 декабря работаем до 16:00, 1–2 января выходные, в остальные праздники — как обычно."},
    {"id": "trimming", "question": "Делаете тримминг?", "answer": "Да, тримминг жесткошерстных пород — 9 000 ₸."},
    {"id": "groomers", "question": "Кто у вас грумеры?", "answer": "У нас работают грумеры Алия и Дана, стаж от 5 лет."},
    {"id": "team", "question": "Большая у вас команда?", "answer": "В салоне 4 грумера и 2 администратора."},
]


@pytest.fixture
def grooming(tenant_a):
    content = "\n".join(json.dumps(item, ensure_ascii=False) for item in GROOMING)
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    return services.kb_version_promote(actor=ACTOR, version=version)


def _ask(tenant, *messages):
    return decide_reply(tenant, None, list(messages))


def test_a_generic_word_the_item_does_not_repeat_is_answered(tenant_a, grooming):
    decision = _ask(tenant_a, "Сколько стоит процедура груминга собаки?")
    assert decision.action == "answer" and decision.sources == ["price-dog"] and "12 000" in decision.text


def test_a_diminutive_finds_the_word_the_business_wrote(tenant_a, grooming):
    assert T.diminutive_bases("собачк")[0] == "собак"
    decision = _ask(tenant_a, "груминг собачки сколько стоит?")
    assert decision.action == "answer" and decision.sources == ["price-dog"]
    decision = _ask(tenant_a, "а груминг кошечки сколько?")
    assert decision.action == "answer" and decision.sources == ["price-cat"]


@pytest.mark.parametrize("question", [
    "Сколько стоит груминг кролика?",  # an animal no item names
    "Груминг хомячка сколько стоит?",  # its diminutive too: the base is not in the knowledge
    "Сколько стоит стрижка когтей кошке в Центре при беременности?",  # a condition no item names
])
def test_a_qualifier_no_item_names_still_goes_to_a_human(tenant_a, grooming, question):
    decision = _ask(tenant_a, question)
    assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER, decision.gate
    assert decision.text == ""


def test_a_sibling_qualifier_refuses_even_beside_a_generic_word(tenant_a, grooming):
    # "кошки" is in the knowledge, but not in the dog's item: a sibling, not a paraphrase.
    snapshot = KBSnapshot([ItemDoc(i["id"], i["question"], i["answer"]) for i in GROOMING])
    segment = snapshot.segments(["процедура груминга собаки для кошки сколько стоит"])[0]
    assert not snapshot.match("price-dog", segment).valid
    decision = _ask(tenant_a, "сколько стоит груминг собаки крупной породы в салоне если у кошки колтуны")
    assert decision.action == "escalate"


def test_minutes_before_an_approximate_number_are_a_quantity(tenant_a, grooming):
    assert T.quantity_units("опоздаю минут на 20") == {"20": "мин"}
    decision = _ask(tenant_a, "Что будет если опоздаю минут на 20?")
    assert decision.action == "answer" and decision.sources == ["late"] and "15 минут" in decision.text


def test_two_branches_asked_without_naming_one_are_both_answered(tenant_a, grooming):
    decision = _ask(tenant_a, "До скольки вы работаете в субботу?")
    assert decision.action == "answer", decision.gate
    assert decision.sources == ["hours-center", "hours-north"] or decision.sources == ["hours-north", "hours-center"]
    assert "10:00 до 18:00" in decision.text and "11:00 до 17:00" in decision.text
    ambiguity = next(g for g in decision.gate if g["rule"] == "ambiguity")
    assert ambiguity["passed"] and "both parallel variants" in ambiguity["detail"]
    named = _ask(tenant_a, "До скольки работает филиал на Севере в субботу?")
    assert named.action == "answer" and named.sources == ["hours-north"] and "10:00 до 18:00" not in named.text


@pytest.mark.parametrize("question", [
    "До скольки вы работаете в суботу?",  # a typo: the misread word may be the one that tells them apart
    "do skolki rabotaete v subbotku?",  # Latin script with a word that reads as no Russian word: the same
])
def test_two_branches_stay_ambiguous_when_a_word_was_not_understood_plainly(tenant_a, grooming, question):
    decision = _ask(tenant_a, question)
    assert decision.action == "escalate" and decision.text == ""


def _tie(snapshot, text, first, second, *others):
    from knowledge.retrieval import SegmentResult

    segment = snapshot.segments([text])[0]
    matches = [snapshot.match(i, segment) for i in (first, second, *others)]
    top = max(m.score for m in matches)
    for m in matches:  # force a tie to look at the parallel rule alone
        m.score, m.base, m.valid = top, top, True
    result = SegmentResult(text=segment.text, content_words=[], unknown_words=[], asks_price=False, asks_hours=True,
                           candidates=matches, chosen=matches[0], runner_up=matches[1])
    return segment, result


def test_only_two_parallel_items_are_answered_together():
    from knowledge.retrieval import parallel_variants

    snapshot = KBSnapshot([ItemDoc(i["id"], i["question"], i["answer"]) for i in GROOMING])
    segment, result = _tie(snapshot, "до скольки работаете в субботу", "hours-center", "hours-north")
    assert [m.external_id for m in parallel_variants(snapshot, segment, result, 0.9)] == ["hours-center", "hours-north"]
    # A third item as good: which two would be a guess.
    segment, result = _tie(snapshot, "до скольки работаете в субботу", "hours-center", "hours-north", "late")
    assert parallel_variants(snapshot, segment, result, 0.9) == []
    # Two items whose questions share less than they differ are two topics, not two variants of one.
    segment, result = _tie(snapshot, "сколько стоит груминг", "price-dog", "price-cat")
    assert parallel_variants(snapshot, segment, result, 0.9) == []


def test_a_burst_with_one_part_the_knowledge_cannot_answer_is_handed_over_whole(tenant_a, grooming):
    answered = _ask(tenant_a, "Сколько стоит груминг собаки?")
    assert answered.action == "answer"
    decision = _ask(tenant_a, "Сколько стоит груминг собаки?", "а кролика?")
    assert decision.action == "escalate" and decision.text == "" and decision.sources == []
    assert decision.detail["missing"]["words"]  # the trace says what the knowledge lacked
    both = _ask(tenant_a, "Сколько стоит груминг собаки?", "и когти стрижёте?")
    assert both.action == "answer" and set(both.sources) == {"price-dog", "claws"}


def test_a_date_is_not_a_clock_hour(tenant_a, grooming):
    assert T.dates_in("1–2 января и 16 декабря") == {(1, 1), (2, 1), (16, 12)}
    decision = _ask(tenant_a, "Вы 16 декабря работаете?")  # "до 16:00" states no 16 December
    assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER
    assert _ask(tenant_a, "2 января работаете?").sources == ["holidays"]


def test_a_quantity_must_fall_in_what_the_item_states(tenant_a, grooming):
    assert T.quantity_bounds("до 15 минут; 6–9 лет; 45 минут") == {"мин": [(0.0, 15.0), (45.0, 45.0)], "год": [(6.0, 9.0)]}
    assert _ask(tenant_a, "Купание собаки на 45 минут сколько стоит?").sources == ["bath"]
    decision = _ask(tenant_a, "Сколько стоит купание собаки на 90 минут?")  # a variant the business does not sell
    assert decision.action == "escalate" and decision.text == ""
    assert _ask(tenant_a, "Если опоздаю минут на 10, что будет?").sources == ["late"]  # within "до 15 минут"


def test_a_verb_finds_the_noun_of_the_same_root(tenant_a, grooming):
    assert "тримм" in T.verb_cores("потриммингуете") or T.core("тримминг") == "тримминг"
    assert "полир" in T.verb_cores("отполировать") and T.core(T.stem("полировка")) == "полир"
    snapshot = KBSnapshot([ItemDoc("polish", "Сколько стоит полировка когтей?", "Полировка когтей — 1 500 ₸.")])
    token = snapshot.analyze("отполируете")[0]
    assert token.known and "полировк" in token.keys
    assert not snapshot.analyze("отбелите")[0].known  # a verb whose noun the business does not use stays unknown


def test_a_count_question_needs_an_item_that_says_how_many(tenant_a, grooming):
    assert T.counted_word("сколько грумеров у вас") == "грумеров" and T.counted_word("сколько френч") is None
    decision = _ask(tenant_a, "Сколько грумеров в салоне?")
    assert decision.action == "answer" and decision.sources == ["team"], decision.gate  # not the names' item
    assert "4 грумера" in decision.text


def test_who_the_service_is_for_is_no_qualifier(tenant_a, grooming):
    decision = _ask(tenant_a, "Для дочки: сколько стоит груминг кошки?")
    assert decision.action == "answer" and decision.sources == ["price-cat"]


def test_a_branch_word_the_item_does_not_repeat_and_chat_shorthand_are_understood():
    snapshot = KBSnapshot([
        ItemDoc("hours-samal", "До скольки работаете в Самале?", "В Самале ежедневно с 10:00 до 20:00."),
        ItemDoc("birthday", "Есть скидка в день рождения?", "В день рождения скидка 10 % на все услуги."),
    ])
    # "филиал" is a generic noun, like "салон" or "клиника": the item names the branch without it.
    segment = snapshot.segments(["самал филиал до скольки работает"])[0]
    assert snapshot.match("hours-samal", segment).valid
    # "др" is the chat shorthand of "день рождения".
    assert snapshot.match("birthday", snapshot.segments(["скидка на др есть?"])[0]).valid
    assert not snapshot.match("birthday", snapshot.segments(["скидка на свадьбу есть?"])[0]).valid


def test_gift_forms_are_one_concept():
    snapshot = KBSnapshot([ItemDoc("gift", "Есть подарочные сертификаты?", "Подарочные сертификаты на 10 000 и 20 000 ₸.")])
    assert snapshot.match("gift", snapshot.segments(["сертификат в подарок можно купить"])[0]).valid
    assert not snapshot.match("gift", snapshot.segments(["абонемент в подарок можно купить"])[0]).valid


def test_two_sentences_of_one_item_answer_together_only_when_its_question_anchors_the_topic():
    answer = ("Предоплата 5 000 ₸ берётся за кератин и окрашивание. "
              "Предоплату возвращаем при отмене не позже чем за сутки.")
    anchored = KBSnapshot([ItemDoc("prepayment", "Нужна ли предоплата?", answer)])
    question = "если отменю кератин, предоплату вернете?"
    assert anchored.match("prepayment", anchored.segments([question])[0]).valid
    loose = KBSnapshot([ItemDoc("rules", "Какие у вас правила салона?", answer)])
    match = loose.match("rules", loose.segments([question])[0])
    assert not match.valid and "scattered" in match.failures


PAYMENT = ItemDoc(
    "payment", "Как можно оплатить?",
    "Оплата: наличные, карты, перевод. Для организаций — безналичный расчёт по договору, с НДС. Стрижка — 5 000 ₸, с "
    "мытьём — 7 000 ₸.",
)


def test_a_bare_prepositional_clause_modifies_the_clause_before_it():
    # "…, с НДС" is said of the payment before it; a clause with its own figure ("с мытьём — 7 000 ₸") is an entry.
    def clauses(text):
        return [" ".join(clause.split()) for clause in T.clauses(text)]

    assert "Для организаций — безналичный расчёт по договору с НДС" in clauses(
        "Для организаций — безналичный расчёт по договору, с НДС")
    assert clauses("Стрижка — 5 000 ₸, с мытьём — 7 000 ₸") == ["Стрижка — 5 000 ₸", "с мытьём — 7 000 ₸"]
    # Short prepositions take no place when words are measured for being near each other.
    assert len(T.key_positions("расчёт по договору, с НДС", proximity=True)) == 3
    assert len(T.key_positions("расчёт по договору, с НДС")) == 5


def test_words_of_one_phrase_are_near_across_a_preposition():
    snapshot = KBSnapshot([PAYMENT])
    (segment,) = snapshot.segments(["безналичный с ндс можно?"])
    match = snapshot.match("payment", segment)
    assert match.valid, match.failures
    # Two entries of the price list are still two entries.
    (segment,) = snapshot.segments(["сколько стоит мытьё с наличными?"])
    assert not snapshot.match("payment", segment).valid


def test_a_perfective_po_verb_is_read_as_the_verb_the_item_uses():
    rooms = ItemDoc("towels", "Как часто уборка?", "Уборка — каждые 3 дня. Полотенца меняем по запросу, бесплатно.")
    snapshot = KBSnapshot([rooms])
    assert T.perfective_base("поменять") == T.stem("менять")
    (segment,) = snapshot.segments(["полотенца поменять можно?"])
    assert snapshot.match("towels", segment).valid
    # Another prefix changes the meaning: "отменить" is not "менять".
    assert T.perfective_base("отменить") == ""
    (segment,) = snapshot.segments(["полотенца отменить можно?"])
    assert not snapshot.match("towels", segment).valid
