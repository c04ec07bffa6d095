"""How to book is answered by the item that states a channel to book through (HB), and a perfective verb made by
«с-» is the imperfective verb the knowledge writes (PS). Invented businesses (issue 13)."""

from __future__ import annotations

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from knowledge import text as T
from knowledge.matching import ItemDoc, KBSnapshot

MASSAGE = [
    {"id": "massage", "question": "Сколько стоит массаж?",
     "answer": "Массаж спины — 8 000 ₸, 40 минут. Массажист с медицинским образованием принимает по записи."},
    {"id": "booking", "question": "Как записаться на массаж?",
     "answer": "Записаться можно по телефону +7 701 111 22 33 или написать в WhatsApp — администратор подтвердит время."},
]


def test_how_to_book_is_an_aspect_whose_word_stays_the_topic():
    aspects, cue_words = T.aspects_asked(T.normalize("Как записаться к массажисту?"))
    assert "signup" in aspects and "записаться" not in cue_words
    assert "signup" not in T.aspects_asked(T.normalize("Можно записаться на субботу?"))[0]
    assert "signup" in T.aspects_stated("Запишитесь по телефону +7 701 111 22 33.")
    assert "signup" not in T.aspects_stated("Массаж спины — 8 000 ₸. Приём по записи.")


def test_how_to_book_is_not_answered_by_an_item_saying_visits_are_by_appointment(tenant_a):
    kb_serve(tenant_a, MASSAGE[:1])
    decision = decide_reply(tenant_a, None, ["как записаться к массажисту?"])
    assert decision.action == "escalate" and "8 000" not in (decision.text or "")


def test_how_to_book_is_answered_by_the_item_stating_the_channel(tenant_a):
    kb_serve(tenant_a, MASSAGE)
    decision = decide_reply(tenant_a, None, ["как записаться на массаж?"])
    assert decision.action == "answer" and decision.sources == ["booking"]
    assert "8 000" not in decision.text
    assert decide_reply(tenant_a, None, ["сколько стоит массаж спины?"]).sources == ["massage"]


SHOES = [
    {"id": "shop", "question": "Продаёте ли вы резиновые сапоги?",
     "answer": "Резиновые сапоги — от 9 000 ₸, размеры 36–45."},
    {"id": "repair", "question": "Сколько стоит ремонт обуви?",
     "answer": "Замена набоек — 2 500 ₸, прошивка подошвы — 4 000 ₸. Резиновые сапоги не клеим и не паяем."},
]


def test_a_perfective_with_s_reads_as_the_verb_the_knowledge_writes():
    snapshot = KBSnapshot([ItemDoc(i["id"], i["question"], i["answer"]) for i in SHOES])
    token = snapshot.analyze("склеите")[0]
    assert token.known and "клеим" in token.keys
    assert not snapshot.analyze("сошьете")[0].known  # no verb of the knowledge: stays unknown


def test_asking_whether_a_thing_can_be_glued_gets_the_item_that_says_it_is_not(tenant_a):
    kb_serve(tenant_a, SHOES)
    decision = decide_reply(tenant_a, None, ["резиновые сапоги склеите?"])
    assert decision.action == "answer" and decision.sources == ["repair"] and "9 000" not in decision.text


CANCELLING = [
    {"id": "cancel", "question": "Как отменить или перенести запись?",
     "answer": "Отменить или перенести запись можно бесплатно не позднее чем за 3 часа до визита — напишите в этот чат "
               "или позвоните, администратор всё оформит."},
]


def test_a_channel_for_cancelling_is_no_way_to_book(tenant_a):
    # A KB (a young one, or one that learned only this item) that says how to cancel, not how to book.
    assert T.channel_only_for_other_action(CANCELLING[0]["answer"])
    assert not T.channel_only_for_other_action(MASSAGE[1]["answer"] + " Отменить запись — за 3 часа.")
    kb_serve(tenant_a, CANCELLING)
    assert decide_reply(tenant_a, None, ["как к вам записаться?"]).action == "escalate"
    decision = decide_reply(tenant_a, None, ["как отменить запись?"])
    assert decision.action == "answer" and decision.sources == ["cancel"]


def test_doing_without_a_thing_is_not_answered_by_an_item_that_only_names_it(tenant_a):
    # WO: "без записи" asks whether a booking is needed; the cancelling item names the booking, it does not say that.
    kb_serve(tenant_a, CANCELLING)
    assert decide_reply(tenant_a, None, ["можно без записи прийти?"]).action == "escalate"
    kb_serve(tenant_a, CANCELLING + [{"id": "walk-in", "question": "Принимаете без записи?",
                                      "answer": "Без записи примем, если у мастера есть свободное окно."}])
    decision = decide_reply(tenant_a, None, ["можно без записи прийти?"])
    assert decision.action == "answer" and decision.sources == ["walk-in"]
