"""Two aspects a question can ask of a thing it names (invented businesses; issue 13): how the customer learns of it
(«как узнать, что готово?») and what the business does when something fails («если не подойдёт, что делаете?»). An
item that only names the thing — «готовые заказы храним 30 дней», «подгоняем по размеру» — answers neither."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T


def test_the_aspects_asked():
    assert "notice" in T.aspects_asked(T.normalize("Как узнать, что заказ готов?"))[0]
    assert "remedy" in T.aspects_asked(T.normalize("Если размер не подойдёт, что делаете?"))[0]
    assert "remedy" not in T.aspects_asked(T.normalize("если не сложно, подскажите цену ремонта"))[0]
    # The condition is the asker's situation when the question asks something else of it (a lead time).
    assert "remedy" not in T.aspects_asked(T.normalize("если не успеваю, за сколько надо предупредить?"))[0]
    assert not T.aspects_asked(T.normalize("Сколько стоит ремонт часов?"))[0] & {"notice", "remedy"}


def test_how_one_learns_of_a_ready_order_needs_an_item_stating_a_channel(tenant_a):
    kb_serve(tenant_a, [
        {"id": "storage", "question": "Сколько хранятся готовые заказы?",
         "answer": "Готовые заказы храним бесплатно 30 дней, дальше — 300 ₸ в сутки."},
        {"id": "price", "question": "Сколько стоит ремонт часов?", "answer": "Замена батарейки — 2 000 ₸."},
    ])
    decision = decide_reply(tenant_a, None, ["как узнать, что заказ готов?"])
    assert decision.action == "escalate" and "30 дней" not in (decision.text or "")
    assert decide_reply(tenant_a, None, ["сколько хранятся готовые заказы?"]).sources == ["storage"]


def test_how_one_learns_is_answered_by_the_item_that_states_the_message(tenant_a):
    kb_serve(tenant_a, [
        {"id": "storage", "question": "Сколько хранятся готовые заказы?",
         "answer": "Готовые заказы храним бесплатно 30 дней, дальше — 300 ₸ в сутки."},
        {"id": "ready", "question": "Когда заказ будет готов?",
         "answer": "Когда заказ готов, пришлём сообщение в WhatsApp."},
    ])
    decision = decide_reply(tenant_a, None, ["как узнать, что заказ готов?"])
    assert decision.action == "answer" and decision.sources == ["ready"]


def test_what_happens_when_it_fails_needs_an_item_stating_the_case(tenant_a):
    kb_serve(tenant_a, [
        {"id": "fitting", "question": "Подгоняете ли вы кольца по размеру?",
         "answer": "Подгоняем кольца по размеру за 1 день, от 4 000 ₸."},
    ])
    decision = decide_reply(tenant_a, None, ["если кольцо по размеру не подошло, что делаете?"])
    assert decision.action == "escalate"
    kb_serve(tenant_a, [
        {"id": "fitting", "question": "Подгоняете ли вы кольца по размеру?",
         "answer": "Подгоняем кольца по размеру за 1 день, от 4 000 ₸. Если после подгонки кольцо не подошло, "
                   "переделаем бесплатно в течение 14 дней."},
    ])
    decision = decide_reply(tenant_a, None, ["если кольцо по размеру не подошло, что делаете?"])
    assert decision.action == "answer" and "14 дней" in decision.text
