"""Issue 13, docs/EVAL.md "GA" and "NS". GA: "сколько стоит букет?" at a florist ties every item whose question names the
bouquet — the general price list, its variants (wedding, dried flowers) and items about something else done to a
bouquet (a bouquet from the customer's picture, toys for a bouquet), none of which names a variant beside the word. The
items whose own question asks the whole question (the bouquet and its price) are the general list and its variants:
among them the general item answers. NS: "надпись" and "надписи" are one noun, though Snowball cuts the first as a
reflexive verb. Invented business."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T

FLORIST = [
    {"id": "bouquets", "question": "Сколько стоит букет на заказ?",
     "answer": "Букеты на заказ считаем по цветам: из сезонных цветов — от 8 000 ₸, из роз — от 12 000 ₸. "
               "Упаковка входит в цену."},
    {"id": "wedding", "question": "Сколько стоит свадебный букет?",
     "answer": "Свадебный букет невесты — от 20 000 ₸, бутоньерка жениху — 3 000 ₸. Заказ — за 5 дней."},
    {"id": "dried", "question": "Есть ли букеты из сухоцветов?",
     "answer": "Букеты из сухоцветов — от 15 000 ₸, стоят до года без воды."},
    {"id": "picture", "question": "Можно ли собрать букет по моей картинке?",
     "answer": "Пришлите фото букета, который понравился, — соберём похожий из цветов в наличии. "
               "Редкие цветы под заказ — доплата от 2 000 ₸."},
    {"id": "toys", "question": "Добавляете ли игрушки в букет?",
     "answer": "Мягкие игрушки в букет — от 1 500 ₸ за штуку, выбор на витрине."},
    {"id": "ribbons", "question": "Сколько стоят ленты и надписи?",
     "answer": "Ленты с надписью: атласная — 1 500 ₸, бархатная — 2 500 ₸. Надпись маркером на самой открытке — "
               "бесплатно, на любом языке."},
    {"id": "cards", "question": "Сколько стоит открытка?",
     "answer": "Открытка — 500 ₸, большая — 1 000 ₸. Подписать можно у курьера."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Алматы, ул. Цветочная, 7, вход с улицы."},
]


def test_of_the_items_asking_the_whole_question_the_general_one_answers(tenant_a):
    kb_serve(tenant_a, FLORIST)
    decision = decide_reply(tenant_a, None, ["сколько стоит букет?"])
    assert decision.action == "answer" and decision.sources == ["bouquets"] and "8 000" in decision.text
    decision = decide_reply(tenant_a, None, ["сколько стоит свадебный букет?"])
    assert decision.action == "answer" and decision.sources == ["wedding"]


def test_a_noun_ending_in_a_soft_sign_after_s_is_one_noun_in_every_form(tenant_a):
    assert T.noun_stem("надпись") == T.stem("надписи") and T.noun_stem("смесь") == T.stem("смеси")
    assert T.stem("надписи") in T.key_set("надпись") and T.stem("надписи") in T.concept("надпись")
    assert T.noun_stem("садись") is None and T.noun_stem("записалась") is None  # verbs keep Snowball's reading
    kb_serve(tenant_a, FLORIST)
    decision = decide_reply(tenant_a, None, ["надпись на открытке платная?"])
    assert decision.action == "answer" and decision.sources == ["ribbons"] and "бесплатно" in decision.text
