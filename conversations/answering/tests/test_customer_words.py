"""How customers name things vs how owners write them (issue 13, a cake shop written blind: docs/EVAL.md, "CW"):
Kazakh endings on a Russian loanword and a Kazakh numeral that folds onto a Russian noun, a surcharge that prices an
option and not the thing, the "л" of imperfective verbs ("доставляете" / "доставка"), the birthday's "день", a
question about the refund rule, and English words of shops that sell food made to order.
Invented businesses only."""

from __future__ import annotations

from conversations.answering import intents
from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import kazakh
from knowledge import text as T

SHOP = [
    {"id": "address", "question": "Где находится Цех?", "answer": "Цех: г. Шымкент, ул. Садовая, 12, вход со двора."},
    {"id": "delivery", "question": "Есть ли доставка?",
     "answer": "Доставка по городу — 1 500 ₸, бесплатно при заказе от 30 000 ₸. Пригород (Тассай, Акжар) — 3 000 ₸. "
               "Доставляем с 09:00 до 21:00."},
    {"id": "payment", "question": "Как можно оплатить?", "answer": "Оплата: Kaspi, банковской картой, наличными."},
    {"id": "prices", "question": "Сколько стоит торт на заказ?",
     "answer": "Торты на заказ считаем по весу: 9 000 ₸ за 1 кг. Минимальный вес — 1,5 кг."},
    {"id": "ingredients", "question": "Из чего вы делаете торты?",
     "answer": "Работаем на натуральных сливках и бельгийском шоколаде. Торты покрываем крем-чизом; мастикой — "
               "+1 000 ₸ за 1 кг."},
    {"id": "discounts", "question": "Есть ли скидки?",
     "answer": "Именинникам — скидка 5 % за 3 дня до и 3 дня после дня рождения."},
]


def test_a_kazakh_numeral_that_folds_onto_a_russian_noun_needs_its_kazakh_letter():
    assert "4" not in T.normalize("Торттың бағасы қанша?")  # a cake's price, not "four"
    assert "4" in T.normalize("төрт адамға бола ма?")  # "for four people"


def test_kazakh_endings_come_off_a_russian_loanword():
    assert "цех" in kazakh.loanword_stems("цехтын") and "торт" in kazakh.loanword_stems("тортка")
    assert "тор" not in kazakh.loanword_stems("торт")  # an ending has at least two letters


def test_kazakh_questions_reach_the_loanwords_and_the_delivery_words(tenant_a):
    kb_serve(tenant_a, SHOP)
    decision = decide_reply(tenant_a, None, ["Цехтың мекенжайы қандай?"])
    assert decision.action == "answer" and decision.sources == ["address"]
    decision = decide_reply(tenant_a, None, ["Жеткізу бар ма?"])
    assert decision.action == "answer" and decision.sources == ["delivery"]
    decision = decide_reply(tenant_a, None, ["Kaspi арқылы төлеуге бола ма?"])
    assert decision.action == "answer" and decision.sources == ["payment"]


def test_a_surcharge_prices_the_option_not_the_thing(tenant_a):
    assert T.surcharge_only("мастикой — +1 000 ₸ за 1 кг") and not T.surcharge_only("9 000 ₸ за 1 кг, ягоды +500 ₸")
    kb_serve(tenant_a, SHOP)
    decision = decide_reply(tenant_a, None, ["сколько стоит торт за кг?"])
    assert decision.action == "answer" and decision.sources == ["prices"] and "9 000" in decision.text
    # What the option adds is still answered by the item that states it.
    decision = decide_reply(tenant_a, None, ["сколько доплата за мастику?"])
    assert decision.action == "answer" and decision.sources == ["ingredients"]


def test_an_imperfective_verb_with_its_l_reaches_the_action_noun(tenant_a):
    assert "достав" in T.verb_cores("доставляете", T.ASPECT_PREFIXES)
    assert "форм" not in T.verb_cores("оформляете")  # at least five letters stay
    kb_serve(tenant_a, SHOP)
    decision = decide_reply(tenant_a, None, ["в Тассай доставляете?"])
    assert decision.action == "answer" and decision.sources == ["delivery"] and "3 000" in decision.text


def test_the_day_of_a_birthday_is_the_birthday_and_a_sum_is_a_price(tenant_a):
    assert T.normalize("в день рождения скидка?") == "в рождения скидка?"
    kb_serve(tenant_a, SHOP)
    decision = decide_reply(tenant_a, None, ["в день рождения скидка есть?"])
    assert decision.action == "answer" and decision.sources == ["discounts"]
    decision = decide_reply(tenant_a, None, ["доставка бесплатная от какой суммы?"])
    assert decision.action == "answer" and decision.sources == ["delivery"] and "30 000" in decision.text


def test_a_question_about_the_refund_rule_is_no_complaint():
    assert not intents.detect("отменю за день до выдачи, вернёте предоплату?")["complaint"]
    assert intents.detect("верните деньги")["complaint"]
    assert intents.detect("торт испорчен, вернёте деньги?")["complaint"]  # a complaint word makes it a demand
    assert intents.detect("вернёте деньги?!")["complaint"]


def test_english_and_russian_words_of_shops_selling_food_made_to_order():
    assert "без сахара" in T.normalize("Do you have sugar-free cakes?") and "торт" in T.normalize("Do you have cakes?")
    assert "доставка" in T.normalize("Do you deliver?")
    assert T.concept("кило") & T.concept("кг")
    assert T.is_filler("скинуть") and T.is_generic("суммы") and T.is_generic("магазин")


def test_a_thing_found_only_as_the_category_an_answer_mentions_is_not_found(tenant_a):
    kb_serve(tenant_a, [
        {"id": "lead-time", "question": "За сколько дней заказывать торт?",
         "answer": "Торт на заказ — за 2 дня. На сегодня торт не сделаем: приходите за готовыми десертами с витрины."},
        {"id": "pets", "question": "Можно ли прийти с животными?", "answer": "Да, с животными до 10 кг можно."},
    ])
    # "мороженое" is a dessert (a wordnet hypernym), but the item only mentions desserts: it says nothing of ice cream.
    decision = decide_reply(tenant_a, None, ["Торт-мороженое делаете?"])
    assert decision.action == "escalate" and "2 дня" not in (decision.text or "")
    # A category the item's own question asks about still covers its members.
    decision = decide_reply(tenant_a, None, ["с собакой можно?"])
    assert decision.action == "answer" and decision.sources == ["pets"]


def test_a_tie_goes_to_the_item_whose_own_question_the_customer_asked(tenant_a):
    kb_serve(tenant_a, [
        {"id": "how-to-order", "question": "Как заказать торт?",
         "answer": "Чтобы заказать торт, напишите менеджеру в WhatsApp или приходите в Цех. Нужны дата, вес и начинка."},
        {"id": "prices", "question": "Сколько стоит торт на заказ?",
         "answer": "Торты на заказ считаем по весу: 9 000 ₸ за 1 кг. Минимальный вес торта на заказ — 1,5 кг."},
    ])
    decision = decide_reply(tenant_a, None, ["как заказать торт?"])
    assert decision.action == "answer" and decision.sources == ["how-to-order"]
