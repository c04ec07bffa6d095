"""Learned items tying on a customer's words: a learned item's question is one customer's wording of one case, so
what else it names is that customer's variant or another topic, and a tie between learned items is not settled by
reading one of them as the general item (GV, `retrieval._general_of_variants`). Issue 17's replay had "брюки
укоротить сколько?" answered from a sleeve-shortening item's trouser-fitting price and "сколько стоит проверка зрения?"
from the children's check. Also: a burst naming its topic in a message of its own is learned with it. Businesses
nobody tuned on: a shoe-care shop, a driving school, a tyre shop."""

from __future__ import annotations

import json

import pytest

from conversations.answering.brain import decide_reply
from conversations.answering.tests.kb import kb_serve
from imperium.core.actors import Actor
from knowledge import services
from knowledge.suggestions import kb_draft_open, kb_suggestion_accept, kb_suggestion_propose

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")

SHOES_ABOUT = {"id": "about", "question": "Что такое «Чистый шаг»?",
               "answer": "«Чистый шаг» — мастерская по уходу за обувью в Костанае, ул. Баймагамбетова, 9. Работаем с 10:00 до 19:00."}


def test_a_learned_item_naming_the_customers_variant_is_not_the_general_item_of_a_tie(tenant_a):
    """"туфли почистить сколько стоит?" ties the learned sneaker-cleaning list with the learned boot item, whose own
    question names boots beside "почистить" and whose answer prices shoes only for a repair. Before, the boot item was
    read as the general one (its boots are mentioned by the other item too) and answered with the repair price."""
    version = kb_serve(tenant_a, [SHOES_ABOUT, {
        "id": "learned-krossovki", "question": "кроссовки почистить с белой подошвой цена", "tags": ["learned", "price"],
        "answer": "Обувь: туфли — 2 000 ₸; кроссовки с белой подошвой — 3 000 ₸; сапоги — 3 500 ₸. Срок — 1 день."}, {
        "id": "learned-sapogi", "question": "сапоги почистить и пропитать, сколько стоит", "tags": ["learned", "price"],
        "answer": "Ремонт и уход: туфли — прошивка подошвы 4 000 ₸; сапоги — замена молнии 5 000 ₸. Почистить сапоги с "
                  "пропиткой — 6 000 ₸."}])
    decision = decide_reply(tenant_a, None, ["туфли почистить сколько стоит?"], kb_version=version)
    assert "learned-sapogi" not in decision.sources, (decision.action, decision.sources, decision.text)
    assert "4 000" not in decision.text


def test_a_learned_item_whose_question_names_no_variant_is_not_the_general_item_either(tenant_a):
    """Two learned items labelled «Обучение для подростков» and «Обучение для взрослых», asked "сколько стоит
    обучение?": the teenagers' item was learned from "сыну 16, можно ему пройти обучение?", which names nothing beside
    «обучение», so GV read it as the general item (the adults' question names «со скидкой») and gave the teenagers'
    price. Neither is general: a manager answers."""
    version = kb_serve(tenant_a, [
        {"id": "about", "question": "Что такое автошкола «Руль»?",
         "answer": "«Руль» — автошкола в Таразе, ул. Толе би, 31. Работаем с 09:00 до 20:00, без выходных."},
        {"id": "learned-syn", "question": "сыну 16, можно ему пройти обучение?", "tags": ["learned", "price"],
         "alt_questions": ["Обучение для подростков"],
         "answer": "Обучение для подростков — с 16 лет, 150 000 ₸, экзамен в ЦОН после 17 лет. Занятия после школы."},
        {"id": "learned-paket", "question": "если оплачу сразу, обучение со скидкой?", "tags": ["learned", "price"],
         "alt_questions": ["Обучение для взрослых"],
         "answer": "Обучение для взрослых — 200 000 ₸: теория и 56 часов вождения. При оплате сразу — со скидкой 10 %."},
    ])
    decision = decide_reply(tenant_a, None, ["сколько стоит обучение?"], kb_version=version)
    assert "150 000" not in decision.text, (decision.action, decision.sources, decision.text)


def test_a_burst_naming_its_topic_apart_is_learned_with_the_topic(tenant_a):
    """["шины зимние", "шипованные есть?"]: the asking message alone is elliptical; the learned question keeps the
    topic the customer named in the message before it (as one question, in the burst's order). A message stating the
    customer's situation ("я на Камри", a verb or a number) is not joined."""
    content = json.dumps({"id": "about", "question": "Что такое шинный центр «Колесо»?",
                          "answer": "«Колесо» — шиномонтаж и продажа шин в Караганде, ул. Ерубаева, 5."}, ensure_ascii=False)
    services.kb_version_promote(actor=ACTOR, version=services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl",
                                                                         content=content))
    reply = "Зимние шины: шипованные Nokian Hakkapeliitta — от 45 000 ₸ за штуку; фрикционные Michelin X-Ice — от 52 000 ₸."
    proposal = kb_suggestion_propose(tenant=tenant_a, questions=["шины зимние", "шипованные есть?"], reply=reply,
                                     reason="no_knowledge", conversation_id=1)
    assert proposal.suggestion is not None and proposal.suggestion.question == "шины зимние шипованные есть?"
    other = kb_suggestion_propose(tenant=tenant_a, questions=["я на Камри езжу", "летние шины почем?"],
                                  reply="Летние шины: Michelin Primacy — от 40 000 ₸ за штуку.", reason="no_knowledge",
                                  conversation_id=2)
    assert other.suggestion is not None and other.suggestion.question == "летние шины почем?"
    suggestion, _ = kb_suggestion_accept(actor=ACTOR, suggestion_id=proposal.suggestion.pk)
    promoted = services.kb_version_promote(actor=ACTOR, version=kb_draft_open(actor=ACTOR, tenant=tenant_a))
    decision = decide_reply(tenant_a, None, ["зимние шины есть?"], kb_version=promoted)
    assert decision.action == "answer" and suggestion.item_external_id in decision.sources, (decision.action, decision.sources)


def test_where_to_bring_a_thing_asks_the_place(tenant_a):
    """"kuda prinesti noutbuk?" asks where to bring the laptop (the address), not about an item that says a part may be
    brought along: before, «куда» with «принести» asked no aspect, and the learned SSD item (its question "ноут", its
    answer "принести") answered with the SSD prices."""
    version = kb_serve(tenant_a, [
        {"id": "about", "question": "Что такое сервис «Ремонтик»?",
         "answer": "«Ремонтик» — ремонт телефонов и ноутбуков в Семее. Работаем с 10:00 до 20:00."},
        {"id": "address", "question": "Где вы находитесь?",
         "answer": "Семей, ул. Абая, 10, 2 этаж, вход со двора."},
        {"id": "learned-ssd", "question": "хочу ссд в ноут поставить на 512, сколько все вместе", "tags": ["learned", "price"],
         "answer": "Установка SSD — 5 000 ₸ за работу плюс деталь: SSD 512 ГБ — 27 000 ₸. Свою деталь можно принести."},
    ])
    decision = decide_reply(tenant_a, None, ["kuda prinesti noutbuk?"], kb_version=version)
    assert "learned-ssd" not in decision.sources and "27 000" not in decision.text, (decision.action, decision.sources)


def test_a_verb_some_item_uses_is_still_the_action_another_item_names_by_its_noun(tenant_a):
    """"Двигатель на гибриде помоете?": «помыть» is in a learned question («сколько стоит помыть машину снаружи?»), so
    «помоете» was read only as that verb, and the learned engine-wash item, which names the action by its noun («Мойка
    двигателя»), lacked it (a verb is a qualifier of a learned item). The verb is also its action noun (the Wiktionary
    action table, as for a verb no item uses): the engine-wash item answers, with its «Гибриды … не моем»."""
    version = kb_serve(tenant_a, [
        {"id": "about", "question": "Что такое автомойка «Волна»?",
         "answer": "«Волна» — автомойка и детейлинг в Атырау, ул. Сатпаева, 3. Работаем с 08:00 до 22:00."},
        {"id": "learned-snaruzhi", "question": "сколько стоит помыть машину снаружи?", "tags": ["learned", "price"],
         "answer": "Мойка кузова: седан — 3 000 ₸, кроссовер — 3 500 ₸, внедорожник — 4 000 ₸."},
        {"id": "learned-moto", "question": "мотоцикл моете?", "tags": ["learned"],
         "answer": "Мойка мотоцикла — 4 000 ₸, квадроцикла — 5 000 ₸."},
        {"id": "learned-dvigatel", "question": "мойка двигателя есть?", "tags": ["learned", "price"],
         "answer": "Мойка двигателя с консервацией пластика — 6 000 ₸, около 40 минут. Гибриды и электромобили под капотом не моем."},
    ])
    decision = decide_reply(tenant_a, None, ["Двигатель на гибриде помоете?"], kb_version=version)
    assert decision.action == "answer" and decision.sources == ["learned-dvigatel"], (decision.action, decision.sources)
    assert "не моем" in decision.text
