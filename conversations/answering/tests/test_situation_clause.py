"""The asker's situation inside one message (issue 13; docs/EVAL.md, "SI"): a clause that only says what happened
("айфон быстро садится", "на ноутбуке полосы по экрану") before a question the item answers whole is the asker's
circumstances, not a variant asked; degree and discourse words («совсем», «именно», «аж») are no qualifiers. A situation
that names another thing, a brand the knowledge does not write, a quality another item asks about, a condition, or that
chooses the answer ("какие капли?") still goes to a manager. Verbs of offering («даёте», «берёте») are how a question is
put, like «предоставляете» (docs/EVAL.md, "VO"). Invented businesses only."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve

REPAIR = [
    {"id": "battery-iphone", "question": "Сколько стоит замена аккумулятора на iPhone?",
     "answer": "Замена аккумулятора iPhone — 14 000 ₸, 40 минут."},
    {"id": "battery-laptop", "question": "Сколько стоит замена аккумулятора ноутбука?",
     "answer": "Замена аккумулятора ноутбука — от 24 000 ₸, аккумулятор заказываем под модель."},
    {"id": "laptop-screen", "question": "Сколько стоит замена экрана ноутбука?",
     "answer": "Замена матрицы ноутбука — от 38 000 ₸ вместе с работой."},
    {"id": "phone-glass", "question": "Можно поменять только стекло?",
     "answer": "Только стекло меняем, если экран цел. Если под трещинами полосы или пятна — нужна замена дисплея."},
    {"id": "leather", "question": "Чистите кожаные куртки?", "answer": "Кожаные куртки чистим за 7 дней — 12 000 ₸."},
    {"id": "jacket", "question": "Сколько стоит химчистка куртки?", "answer": "Химчистка куртки — 5 000 ₸."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Мы в ТЦ «Орбита», 2 этаж, павильон 14."},
    {"id": "warranty", "question": "Какая гарантия на ремонт?", "answer": "Гарантия на замену деталей — 3 месяца."},
]


def test_a_situation_clause_before_the_question_is_context(tenant_a):
    kb_serve(tenant_a, REPAIR)
    for question, item in (
        ("айфон быстро садится, замена аккумулятора почем", "battery-iphone"),
        ("на ноутбуке полосы по экрану, матрицу менять сколько стоит", "laptop-screen"),
    ):
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer", (question, decision.gate)
        assert decision.sources == [item], question


def test_degree_and_discourse_words_are_no_qualifiers(tenant_a):
    kb_serve(tenant_a, REPAIR)
    decision = decide_reply(tenant_a, None, ["аккумулятор на ноутбуке не держит совсем, замена сколько"])
    assert decision.action == "answer" and decision.sources == ["battery-laptop"], decision.gate
    decision = decide_reply(tenant_a, None, ["в тц орбита где именно вы?"])
    assert decision.action == "answer" and decision.sources == ["address"], decision.gate


def test_a_situation_that_may_change_the_answer_still_goes_to_a_manager(tenant_a):
    kb_serve(tenant_a, REPAIR)
    for question in (
        "самсунг быстро садится, замена аккумулятора почем",  # a brand the knowledge does not write
        "на самсунге полосы по экрану, экран менять сколько стоит",  # where the thing is: which one
        "куртка кожаная, химчистка куртки сколько",  # a quality another item asks about
        "айфон быстро садится, какой аккумулятор лучше поставить",  # the situation chooses the answer
        "если аккумулятор быстро сядет после замены, гарантия будет",  # a condition
        "аккумулятор на айфоне быстро садится",  # nothing asked of the item
    ):
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "escalate", (question, decision.sources, decision.text)


SHOP = [
    {"id": "installments", "question": "Есть ли рассрочка?", "answer": "Рассрочка через Kaspi на 3, 6 или 12 месяцев без переплаты."},
    {"id": "prepayment", "question": "Нужна ли предоплата за заказ?", "answer": "Предоплата за заказ — 50 %, остальное при получении."},
    {"id": "warranty", "question": "Какая гарантия?", "answer": "На оправы даём гарантию 6 месяцев."},
    {"id": "repair", "question": "Ремонтируете очки?", "answer": "Берём в ремонт оправы любых марок, от 2 000 ₸."},
]


def test_verbs_of_offering_are_how_a_question_is_put_not_what_it_asks(tenant_a):
    # "даёте", "берёте" ask whether the business offers or charges something, as "предоставляете", "принимаете" do; the
    # knowledge writing the verb elsewhere ("даём гарантию", "берём в ремонт") made it a word the item had to repeat.
    kb_serve(tenant_a, SHOP)
    for question, item in (("рассрочку даете?", "installments"), ("предоплату за заказ берете?", "prepayment")):
        decision = decide_reply(tenant_a, None, [question])
        assert decision.action == "answer" and decision.sources == [item], (question, decision.gate)
    decision = decide_reply(tenant_a, None, ["скидку пенсионерам даете?"])  # the thing offered must still be the item's
    assert decision.action == "escalate"
