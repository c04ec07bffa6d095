"""Aspect typing: a question about one aspect of a service (how long, which days, where, from what
age) is answered only by an item that states that aspect; the trace says what was missing; the
production path (http embeddings, OpenAI-compatible LLM) keeps the same veto."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from conversations.choices import EscalationReason
from conversations.models import Escalation, MessageTrace
from conversations.services import turn_run_due
from conversations.tests.helpers import conversation_of
from imperium.core.actors import Actor
from knowledge import services
from knowledge import text as T
from knowledge.matching import ItemDoc, KBSnapshot
from knowledge.tests.fakes import FakeServer

ACTOR = Actor.system("test")

# A business nobody tuned on: a promotion that names a service without its duration, beside the
# price list and the schedule that do state them.
STUDIO = [
    {"id": "promo-yoga", "question": "Есть ли акции на йогу?", "answer": "Акция: при покупке абонемента на йогу — коврик в подарок."},
    {"id": "price-yoga", "question": "Сколько стоит йога?", "answer": "Йога: разовое занятие — 4 000 ₸, 8 занятий — 24 000 ₸."},
    {"id": "schedule-yoga", "question": "Когда проходит йога?",
     "answer": "Йога проходит по пн и ср в 19:00, длительность занятия — 75 минут."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "г. Астана, ул. Сейфуллина, 12, 3 этаж."},
]


@pytest.fixture
def studio(tenant_a):
    return kb_serve(tenant_a, STUDIO)


@pytest.mark.parametrize(
    ("question", "aspects"),
    [
        ("сколько длится йога", {"duration"}),
        ("йога по каким дням?", {"days"}),
        ("до скольки работаете", {"hours"}),
        ("где вы находитесь", {"address"}),
        ("с какого возраста можно", {"age"}),
        ("сколько стоит йога", {"price"}),
        ("есть ли йога", set()),
    ],
)
def test_the_aspect_of_a_question_is_typed(question, aspects):
    assert set(T.aspects_asked(T.normalize(question))[0]) == aspects


def test_an_item_that_states_no_duration_cannot_answer_a_duration_question():
    snapshot = KBSnapshot([ItemDoc(i["id"], i["question"], i["answer"]) for i in STUDIO])
    segment = snapshot.segments(["сколько длится йога?"])[0]
    assert segment.aspects == {"duration"}
    assert snapshot.match("promo-yoga", segment).failures == ["no_duration"]
    assert snapshot.match("price-yoga", segment).failures == ["no_duration"]
    assert snapshot.match("schedule-yoga", segment).valid


def test_duration_days_and_address_questions_get_the_item_stating_them(tenant_a, studio):
    for question, item, fact in [
        ("Сколько по времени идёт йога?", "schedule-yoga", "75 минут"),
        ("йога по каким дням?", "schedule-yoga", "пн и ср"),
        ("где вы находитесь", "address", "Сейфуллина, 12"),
    ]:
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer" and decision.sources == [item] and fact in decision.text, question


def test_a_burst_asking_the_price_then_the_duration_of_it_answers_both(tenant_a, studio):
    decision = decide_reply(tenant_a, None, ["йога сколько стоит?", "и сколько по времени"])
    assert decision.action == "answer"
    assert decision.sources == ["price-yoga", "schedule-yoga"] and "4 000" in decision.text and "75 минут" in decision.text


def test_an_escalation_for_a_missing_aspect_says_what_was_missing(tenant_a, studio):
    snapshot_items = [ItemDoc(i["id"], i["question"], i["answer"]) for i in STUDIO if i["id"] != "schedule-yoga"]
    content = "\n".join(json.dumps({"id": d.external_id, "question": d.question, "answer": d.answer}, ensure_ascii=False)
                        for d in snapshot_items)
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    decision = decide_reply(tenant_a, None, ["Сколько длится йога?"], kb_version=version)
    assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER
    missing = decision.detail["missing"]
    assert missing["aspects"] == ["duration"] and missing["nearest_item"] in {"promo-yoga", "price-yoga"}
    assert "states no duration" in decision.gate[-1]["detail"]
    decision = decide_reply(tenant_a, None, ["Сколько стоит йога для беременных?"], kb_version=version)
    assert decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER and "беременных" in decision.detail["missing"]["words"]


def test_the_trace_and_the_escalation_show_what_was_missing_in_admin(webhook, tenant_a, studio, inline, login, superuser):
    webhook.post(tenant_a, text="Сколько стоит йога для беременных?", **{"from": "+77015550000"})
    with inline():
        turn_run_due(conversation_id=conversation_of(tenant_a, "+77015550000").pk, now=timezone.now() + timedelta(minutes=5))
    trace = MessageTrace.objects.get(tenant=tenant_a)
    escalation = Escalation.objects.get(tenant=tenant_a)
    assert trace.reason == escalation.reason == EscalationReason.UNSUPPORTED_QUALIFIER
    assert trace.detail["missing"]["words"] == ["беременных"] and escalation.detail["missing"]["words"] == ["беременных"]
    client = login(superuser)
    for obj, name in [(trace, "messagetrace"), (escalation, "escalation")]:
        page = client.get(reverse(f"admin:conversations_{name}_change", args=[obj.pk])).content.decode()
        assert "Чего не хватило в базе знаний" in page and "каких слов нет: беременных" in page  # the admin is Russian


def test_a_missing_aspect_is_named_in_russian_in_admin(webhook, tenant_a, studio, inline, login, superuser):
    webhook.post(tenant_a, text="С какого возраста можно на йогу?", **{"from": "+77015550001"})
    with inline():
        turn_run_due(conversation_id=conversation_of(tenant_a, "+77015550001").pk, now=timezone.now() + timedelta(minutes=5))
    trace = MessageTrace.objects.get(tenant=tenant_a)
    assert trace.detail["missing"]["aspects"] == ["age"], trace.detail
    page = login(superuser).get(reverse("admin:conversations_messagetrace_change", args=[trace.pk])).content.decode()
    assert "в статье не указано: возраст" in page and "age" not in page.split("в статье не указано")[1][:80]


def _embeddings(method, path, body, headers):
    # A toy model: every text points the same way, so ranking is left to the lexical evidence.
    return 200, {"data": [{"index": i, "embedding": [1.0, 0.0, 0.0, 0.0]} for i, _ in enumerate(body["input"])]}


def _llm(method, path, body, headers):
    # A model that would happily answer anything from what it is given.
    system = body["messages"][0]["content"]
    verdict = {"item_id": "promo-yoga", "quote": "коврик в подарок", "answers_exactly": True}
    content = json.dumps(verdict) if "You check a draft reply" in system else "Йога длится 60 минут. [promo-yoga]"
    return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}


def test_the_production_path_keeps_the_aspect_veto(settings, tenant_a):
    settings.EMBEDDINGS_BACKEND, settings.EMBEDDINGS_DIM = "http", 4
    settings.LLM_BACKEND, settings.LLM_API_KEY, settings.LLM_MODEL, settings.LLM_RETRIES = "openai", "llm-key", "test-model", 0
    items = [i for i in STUDIO if i["id"] != "schedule-yoga"]
    with FakeServer(_embeddings) as embeddings, FakeServer(_llm) as llm:
        settings.EMBEDDINGS_URL, settings.LLM_BASE_URL = embeddings.url, f"{llm.url}/v1"
        content = "\n".join(json.dumps(item, ensure_ascii=False) for item in items)
        version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
        decision = decide_reply(tenant_a, None, ["Сколько длится йога?"], kb_version=version)
        assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER
        assert decision.detail["missing"]["aspects"] == ["duration"]
        assert llm.requests == []  # vetoed before the model is asked
        assert embeddings.requests  # the production retrieval ran


# A pilates-and-stretching studio nobody tuned on: who teaches and where the classes take place are stated by
# the team and the halls items; the overview and the price list name the classes but no person and no place.
PILATES = [
    ItemDoc("about", "Что у вас есть?", "Мы — студия пилатеса и растяжки. Направления: пилатес на реформере, стретчинг, "
                                         "йога для спины. Занятия для взрослых."),
    ItemDoc("prices", "Сколько стоят занятия?", "Пилатес на реформере — 6 000 ₸; стретчинг — 3 500 ₸; йога для спины — 3 000 ₸."),
    ItemDoc("team", "Кто у вас преподаёт?", "Инструкторы: Салтанат — пилатес на реформере (стаж 6 лет); Роман — стретчинг."),
    ItemDoc("halls", "Какие у вас залы?", "Пилатес на реформере — только в зале на Кабанбай батыра; стретчинг и йога для спины — "
                                         "в обоих залах."),
]


@pytest.mark.parametrize(
    ("question", "aspects"),
    [
        ("кто ведет стретчинг?", {"person"}),
        ("какой инструктор у пилатеса?", {"person"}),
        ("какой тренер ведёт пилатес?", {"person"}),
        ("стретчинг где проходит?", {"place"}),
        ("в каком зале пилатес?", {"place"}),
        ("кто может забрать ребенка?", set()),  # "кто" alone asks no person by name
    ],
)
def test_who_and_where_questions_are_typed(question, aspects):
    assert set(T.aspects_asked(T.normalize(question))[0]) == aspects


def test_a_role_noun_of_the_cue_stays_the_topic():
    _, cue_words = T.aspects_asked(T.normalize("какой тренер ведёт пилатес?"))
    assert "ведет" in cue_words and "тренер" not in cue_words


@pytest.mark.parametrize(
    ("text", "person", "place"),
    [
        ("Инструкторы: Салтанат — пилатес (стаж 6 лет)", True, False),
        ("Пилатес ведёт старший тренер Роман.", True, False),
        ("Косметолог — Алия Сериковна, врач-косметолог.", True, False),
        ("Ольга — колорист, стаж 12 лет.", True, False),
        ("Мастер оценит состояние волос. Гарантия 5 дней.", False, False),
        ("На английском можно общаться с администратором филиала в Самале.", False, True),
        ("Пилатес — только в зале на Кабанбай батыра.", False, True),
        ("Студия Центр: 3 этаж, зал 305.", False, True),
        ("В праздники занятий нет.", False, False),
    ],
)
def test_an_item_states_a_person_or_a_place_by_name(text, person, place):
    stated = T.aspects_stated(text)
    assert ("person" in stated) == person and ("place" in stated) == place


def test_who_teaches_is_answered_by_the_item_naming_a_person():
    snapshot = KBSnapshot(PILATES)
    segment = snapshot.segments(["кто ведет стретчинг?"])[0]
    assert segment.aspects == {"person"} and [t.kind for t in segment.tokens if t.text == "ведет"] == ["soft"]
    assert snapshot.match("team", segment).valid  # "ведет" is the question's form, the team item need not say it
    assert snapshot.match("about", segment).failures == ["no_person"]
    assert snapshot.match("prices", segment).failures == ["no_person"]


def test_where_it_takes_place_is_answered_by_the_item_naming_a_place():
    snapshot = KBSnapshot(PILATES)
    segment = snapshot.segments(["пилатес на реформере где проходит?"])[0]
    assert segment.aspects == {"place"}
    assert snapshot.match("halls", segment).valid
    assert snapshot.match("about", segment).failures == ["no_place"]
    assert snapshot.match("prices", segment).failures == ["no_place"]
    assert not snapshot.match("team", segment).valid


@pytest.fixture
def pilates(tenant_a):
    return kb_serve(tenant_a, PILATES)


def test_who_and_where_questions_get_the_person_and_the_place(tenant_a, pilates):
    for question, item, fact in [
        ("Кто ведёт стретчинг?", "team", "Роман"),
        ("в каком зале пилатес на реформере?", "halls", "Кабанбай батыра"),
    ]:
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer" and decision.sources == [item] and fact in decision.text, question
    decision = decide_reply(tenant_a, None, ["кто ведет йогу для спины?"])  # the team item names nobody for it
    assert decision.action == "escalate" and decision.reason == EscalationReason.UNSUPPORTED_QUALIFIER


def test_a_latin_script_question_gets_its_aspect_from_the_words_read():
    snapshot = KBSnapshot(PILATES)
    segment = snapshot.segments(["kto vedet stretching?"])[0]
    assert segment.aspects == {"person"}  # "кто ведет", read from the Latin words
    assert snapshot.match("team", segment).valid
    assert snapshot.match("prices", segment).failures == ["no_person"]


# A business nobody tuned on: items that name a membership only as who gets their offer, beside the price list
# that has no yearly membership.
COWORKING = [
    ItemDoc("locker", "Есть ли шкафчики?", "Личный шкафчик — 2 000 ₸ в месяц, для владельцев годового абонемента — бесплатно."),
    ItemDoc("coffee", "Есть ли кофе?", "Кофе из кофемашины — 500 ₸; при покупке абонемента на 3 месяца кофе без ограничений."),
    ItemDoc("membership", "Сколько стоит абонемент?", "Абонемент на 1 месяц — 30 000 ₸, на 3 месяца — 80 000 ₸."),
    ItemDoc("hours", "Какой график работы?", "Ежедневно с 08:00 до 22:00."),
]


@pytest.mark.parametrize(("fragment", "kept"), [
    ("Личный шкафчик — 2 000 ₸ в месяц, для владельцев годового абонемента — бесплатно.", "Личный шкафчик — 2 000 ₸ в месяц,"),
    ("При покупке абонемента на 3 месяца кофе без ограничений.", ""),
    ("Стрижка для детей — 3 000 ₸.", "Стрижка для детей — 3 000 ₸."),  # a variant, not a beneficiary
])
def test_beneficiary_and_purchase_phrases_are_set_apart(fragment, kept):
    assert " ".join(T.outside_mentions(fragment).split()).startswith(kept)
    assert "абонемент" not in T.outside_mentions(fragment).lower()


def test_a_price_question_is_not_answered_by_an_item_that_names_the_thing_only_as_who_gets_its_offer():
    snapshot = KBSnapshot(COWORKING)
    yearly = snapshot.segments(["сколько стоит годовой абонемент?"])[0]
    assert "mentioned" in snapshot.match("locker", yearly).failures  # the locker's price, not the membership's
    quarterly = snapshot.segments(["абонемент на 3 месяца сколько стоит"])[0]
    assert "mentioned" in snapshot.match("coffee", quarterly).failures
    assert snapshot.match("membership", quarterly).valid
    # The offer itself is still answered when asked about: the asked words are what the fragment is about.
    assert snapshot.match("locker", snapshot.segments(["сколько стоит шкафчик для владельцев годового абонемента"])[0]).valid


def test_the_yearly_membership_price_goes_to_a_manager_and_the_quarterly_one_is_answered(tenant_a):
    kb_serve(tenant_a, COWORKING)
    yearly = decide_reply(tenant_a, None, ["Сколько стоит годовой абонемент?"])
    assert yearly.action == "escalate" and "бесплатно" not in (yearly.text or "")
    quarterly = decide_reply(tenant_a, None, ["абонемент на 3 месяца сколько стоит?"])
    assert quarterly.action == "answer" and "80 000" in quarterly.text and quarterly.sources == ["membership"]


# A promotion whose own validity is a duration, beside the service it discounts (a business nobody tuned on).
KERATIN = [
    ItemDoc("promo", "Какие сейчас акции?", "Скидка 20% на кератиновое выпрямление. Акция действует 2 недели с момента записи."),
    ItemDoc("keratin", "Сколько стоит кератин?", "Кератиновое выпрямление — от 30 000 ₸ в зависимости от длины волос."),
    ItemDoc("manicure-time", "Сколько длится маникюр?", "Около полутора часов. Маникюр с покрытием — до 2 часов."),
]


def test_a_duration_stated_of_something_else_in_the_item_does_not_answer_how_long_the_service_takes():
    snapshot = KBSnapshot(KERATIN)
    how_long = snapshot.segments(["сколько длится кератин?"])[0]
    assert how_long.aspects == {"duration"}
    assert "no_duration" in snapshot.match("promo", how_long).failures  # the promotion's 2 weeks, not the procedure's
    # The item's own question anchors its topic: its durations answer wherever in the answer they stand.
    assert snapshot.match("manicure-time", snapshot.segments(["маникюр сколько по времени"])[0]).valid


def test_the_burst_asking_the_price_then_the_duration_is_handed_over_not_answered_with_the_promotion(tenant_a):
    kb_serve(tenant_a, KERATIN)
    for messages in (["сколько длится кератин?"], ["сколько стоит кератин?", "и сколько по времени"]):
        decision = decide_reply(tenant_a, None, messages)
        assert decision.action == "escalate" and "2 недели" not in (decision.text or ""), messages
    assert decide_reply(tenant_a, None, ["сколько стоит кератин?"]).sources == ["keratin"]


@pytest.mark.parametrize(("text", "duration"), [
    ("Процедура длится 2 часа.", True),
    ("Маникюр с покрытием — 1,5 часа.", True),
    ("Сертификат действует 6 месяцев.", False),  # months are a validity, not a length the duration cue asks
    ("Если купите абонемент в течение 7 дней после пробного, стоимость пробного засчитаем.", False),  # a window
    ("Отменить можно бесплатно за 24 часа до визита.", False),  # a notice period before an event
])
def test_a_window_before_or_after_an_event_is_not_a_duration(text, duration):
    assert ("duration" in T.aspects_stated(text)) is duration


def test_how_long_a_trial_lasts_is_not_answered_by_the_window_to_buy_after_it(tenant_a):
    trial = {"id": "trial", "question": "Сколько стоит пробное занятие?",
             "answer": "Пробное занятие — 1 500 ₸. Если купите абонемент в течение 7 дней после пробного, 1 500 ₸ засчитаем."}
    kb_serve(tenant_a, [trial])
    decision = decide_reply(tenant_a, None, ["сколько длится пробное занятие?"])
    assert decision.action == "escalate" and decision.detail["missing"]["aspects"] == ["duration"]
    assert decide_reply(tenant_a, None, ["пробное занятие сколько стоит?"]).action == "answer"


def test_a_question_that_is_only_an_aspect_gets_the_item_whose_question_asks_it(tenant_a):
    # «где вы?» shares no word with «Где вы находитесь?» but asks the same; «как к вам добраться?» is the same question.
    items = [
        {"id": "address", "question": "Где вы находитесь?", "answer": "г. Караганда, пр. Бухар-Жырау, 47, 2 этаж."},
        {"id": "hours", "question": "Какой график работы?", "answer": "Ежедневно с 10:00 до 20:00."},
        {"id": "price", "question": "Сколько стоит стрижка?", "answer": "Стрижка — 5 000 ₸."},
    ]
    kb_serve(tenant_a, items)
    for question in ("где вы?", "как к вам добраться?", "как до вас доехать?"):
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer" and decision.sources == ["address"] and "Бухар-Жырау" in decision.text, question
    # Without an item asking or stating it, the same question goes to a manager.
    content = "\n".join(json.dumps(item, ensure_ascii=False) for item in items[1:])
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    assert decide_reply(tenant_a, None, ["где вы?"], kb_version=version).action == "escalate"


@pytest.mark.parametrize(("question", "price", "hours"), [
    ("сколько платить за маникюр?", True, False),
    ("сколько берёте за стрижку?", True, False),
    ("во сколько обойдётся педикюр?", True, False),  # "во сколько" here is a price, not a time
    ("во сколько мне выйдет наращивание?", True, False),
    ("во сколько открываетесь?", False, True),
])
def test_how_much_one_pays_said_with_a_verb_asks_the_price(question, price, hours):
    normalized = T.normalize(question)
    assert T.asks_price(normalized) is price and T.asks_hours(normalized) is hours
    assert ("price" in T.aspects_asked(normalized)[0]) is price


# A salon nobody tuned on: a promotion with its own hours beside the price lists.
SALON = [
    {"id": "promo", "question": "Какие сейчас акции?", "answer": "По будням с 10:00 до 13:00 маникюр и педикюр со скидкой 10%."},
    {"id": "pedicure", "question": "Сколько стоит педикюр?", "answer": "Педикюр классический — 7 000 ₸, с покрытием — 11 000 ₸."},
    {"id": "braces", "question": "Сколько стоят брекеты?", "answer": "Металлические брекеты — 350 000 ₸ на обе челюсти."},
]


def test_price_verbs_and_how_long_an_action_lasts_get_the_right_aspect(tenant_a):
    kb_serve(tenant_a, SALON)
    decision = decide_reply(tenant_a, None, ["во сколько обойдётся педикюр?"])
    assert decision.action == "answer" and decision.sources == ["pedicure"]  # not the promotion's 10:00–13:00
    assert decide_reply(tenant_a, None, ["сколько платить за педикюр?"]).sources == ["pedicure"]
    # "сколько носить" asks how long, which the price list does not say: a manager answers, not the price.
    worn = decide_reply(tenant_a, None, ["брекеты сколько носить?"])
    assert worn.action == "escalate" and worn.detail["missing"]["aspects"] == ["duration"]
