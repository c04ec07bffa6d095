"""Numbers and words that describe the asker's situation rather than choose a variant (issue 13): an age
inside the item's age rule, a party's size against a per-person price, a lead time against a notice
period, a part of the day against the item's clock times, a price comparison the item states; and, of
two items tying on words, the one stating the asked fact beside every asked word."""

from __future__ import annotations

import json

import pytest

from conversations.answering.brain import decide_reply
from conversations.choices import EscalationReason
from imperium.core.actors import Actor
from knowledge import services
from knowledge.matching import ItemDoc, KBSnapshot

RELATIONS = ("synonyms", "hypernyms", "actions", "verbs")
ACTOR = Actor.system("test")

STUDIO = [
    ItemDoc("trial", "Сколько стоит пробное занятие?",
            "Пробное занятие — 1 000 ₸, для малышей 3–5 лет — бесплатно. Одно пробное на ребёнка."),
    ItemDoc("hiphop", "С какого возраста хип-хоп?", "Хип-хоп — с 7 лет, 5 занятий в месяц."),
    ItemDoc("birthday", "Можно ли провести у вас день рождения?",
            "День рождения в студии: 1,5 часа, до 12 детей — 45 000 ₸, каждый следующий ребёнок — 3 000 ₸."),
    ItemDoc("hall", "Можно ли арендовать зал?", "Аренда зала до 12 детей — 20 000 ₸ в час."),
    ItemDoc("prepayment", "Нужна ли предоплата?",
            "При отмене керамики не позднее чем за 48 часов предоплату возвращаем."),
    ItemDoc("freeze", "Можно ли заморозить абонемент?", "Заморозка абонемента — до 14 дней по справке."),
    ItemDoc("promo", "Какие сейчас акции?",
            "По будням с 08:00 до 12:00 мойка кузова — 5 000 ₸ вместо 6 000 ₸."),
    ItemDoc("camp", "Есть ли летний лагерь?",
            "Летний лагерь: смена 5 дней, с обедом — 55 000 ₸, для учеников школы — 48 000 ₸."),
    ItemDoc("masters", "Кто у вас делает маникюр?",
            "Мастера: Айгерим и Дана. Стоимость услуг у всех мастеров одинаковая."),
    ItemDoc("manicure", "Сколько стоит маникюр?", "Маникюр классический — 5 000 ₸; маникюр с гель-лаком — 9 000 ₸."),
]


def _match(snapshot: KBSnapshot, item: str, *messages: str):
    segment = snapshot.segments(list(messages))[0]
    return snapshot.match(item, segment, asks_price="сколько" in segment.text)


@pytest.fixture(scope="module")
def studio() -> KBSnapshot:
    return KBSnapshot(STUDIO, relations=RELATIONS)


def test_an_age_inside_the_items_age_range_is_covered_with_its_unit_word(studio):
    assert _match(studio, "trial", "для малыша 4 года пробное сколько?").valid
    # outside the range: the number and its unit word still block
    outside = _match(studio, "trial", "для сына 9 лет пробное сколько?")
    assert not outside.valid and "9" in outside.uncovered


def test_an_age_the_item_states_in_years_must_be_one_of_its_ages_not_the_same_digits_elsewhere(studio):
    # "5" is written in the item ("5 занятий"), but its age is "с 7 лет": a 5-year-old is not answered.
    assert not _match(studio, "hiphop", "хип-хоп для 5 лет можно?").valid
    assert _match(studio, "hiphop", "хип-хоп для 8 лет можно?").valid


def test_a_party_size_is_covered_by_a_price_per_person_only(studio):
    assert _match(studio, "birthday", "на др будет 15 детей, это сколько выйдет?").valid
    # the hall has a limit but no per-person price: 15 children is not a size it states
    hall = _match(studio, "hall", "аренда зала на 15 детей сколько?")
    assert not hall.valid and "15" in hall.uncovered


def test_a_lead_time_before_the_event_is_covered_by_a_notice_period(studio):
    assert _match(studio, "prepayment", "предоплату вернете если отменю за 3 дня до керамики?").valid
    # the same number without "до" is not a lead time ("за 3 дня сделаете?" is a duration)
    assert not _match(studio, "prepayment", "предоплату за 3 дня вернете?").valid


def test_a_part_of_the_day_is_covered_by_the_items_clock_times_in_it(studio):
    assert _match(studio, "promo", "утром мойка кузова дешевле?").valid
    assert not _match(studio, "promo", "вечером мойка кузова дешевле?").valid


def test_a_price_comparative_needs_a_comparison_the_item_states(studio):
    assert _match(studio, "camp", "лагерь для своих учеников дешевле?").valid  # two prices beside "учеников"
    assert _match(studio, "masters", "у Айгерим дороже чем у других мастеров?").valid  # "одинаковая"
    # two prices that do not name what the customer compares answer nothing: bringing one's own gel polish
    assert not _match(studio, "manicure", "со своим гель-лаком маникюр дешевле?").valid
    assert not _match(studio, "manicure", "будет дешевле?").valid


def test_an_age_stated_alone_joins_the_question_next_to_it(studio):
    segments = studio.segments(["здравствуйте", "дочке 4 года", "пробное сколько стоит?"])
    assert len(segments) == 1 and "4" in segments[0].numbers
    # a duration stated alone stays its own part (joined, it would demand the item repeat it)
    assert len(studio.segments(["заболел на 2 недели", "можно заморозить?"])) == 2


BALLET = [
    {"id": "price", "question": "Сколько стоит абонемент?",
     "answer": "Абонемент на месяц — 20 000 ₸. Балет (12 занятий в месяц) — 26 000 ₸."},
    {"id": "uniform", "question": "Какая нужна форма для занятий?",
     "answer": "Форма: малыши и балет — белый купальник и чешки. Форму можно купить у нас: набор — 9 000 ₸."},
]


@pytest.fixture
def ballet(tenant_a):
    content = "\n".join(json.dumps(d, ensure_ascii=False) for d in BALLET)
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=content)
    return services.kb_version_promote(actor=ACTOR, version=version)


def test_of_two_tying_items_the_one_stating_the_price_beside_the_asked_word_answers(tenant_a, ballet):
    decision = decide_reply(tenant_a, None, ["сколько стоит балет?"])
    assert decision.action == "answer" and decision.sources == ["price"] and "26 000" in decision.text
    # no item states a duration beside "балет": the tie stays a hand-over
    decision = decide_reply(tenant_a, None, ["балет сколько стоит форма или абонемент?"])
    assert decision.action == "escalate"
    assert decision.reason in (EscalationReason.AMBIGUOUS, EscalationReason.UNSUPPORTED_QUALIFIER)


def test_an_experience_or_a_year_states_no_age():
    from knowledge import text as T

    assert "age" not in T.aspects_stated("Данияр — хип-хоп (стаж 10 лет)")
    assert "age" not in T.aspects_stated("Работаем с 2017 года.")
    assert {"age"} <= T.aspects_stated("Хип-хоп — с 7 лет, балет — с 3-х лет, «Дети» 6–9 лет.")


def test_a_number_of_days_is_covered_by_a_daily_rate_only():
    docs = [ItemDoc("luggage", "Можно ли оставить багаж?",
                    "Камера хранения: в день выезда — бесплатно; на несколько дней — 1 000 ₸ в сутки."),
            ItemDoc("course", "Сколько длится курс?", "Курс массажа — 10 сеансов, 60 000 ₸.")]
    snapshot = KBSnapshot(docs, relations=RELATIONS)
    assert _match(snapshot, "luggage", "хранение багажа на 3 дня сколько стоит?").valid
    assert not _match(snapshot, "course", "курс массажа на 3 дня сколько стоит?").valid  # no daily rate: 3 days is no variant it has
