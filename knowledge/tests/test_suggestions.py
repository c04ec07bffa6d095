"""Suggestions from managers' answers: what is proposed (alt phrasing, new item, nothing), the count
by meaning, accept into the open draft, tenant scoping, paused items and the learned promotion."""

from __future__ import annotations

import json

import pytest

from imperium.core import policy
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog, VerificationRequest
from knowledge import learning
from knowledge.models import KnowledgeItem, KnowledgeSuggestion, KnowledgeVersion
from knowledge.services import kb_eval_set_save, kb_import, kb_version_make_first_stable
from knowledge.suggestions import (
    kb_draft_open,
    kb_item_pause,
    kb_item_unpause,
    kb_paused_items,
    kb_suggestion_accept,
    kb_suggestion_propose,
    kb_suggestion_reject,
)
from releases.learned import kb_learned_promotion_request

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")
KB = [
    {"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр с покрытием гель-лаком стоит 5000 ₸."},
    {"id": "hours", "question": "Какой у вас график работы?", "answer": "Мы работаем ежедневно с 10:00 до 21:00."},
]


@pytest.fixture
def stable(tenant_a):
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in KB)
    return kb_version_make_first_stable(actor=ACTOR, version=kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl",
                                                                         content=content))


@pytest.mark.parametrize(("reply", "why"), [
    ("Айгерим, стоимость 7000 ₸.", "customer_name"),
    ("Запишем на 15.03 в 12:00, стоимость 7000 ₸.", "specific_date"),
    ("Приходите завтра, сделаем скидку 10%.", "specific_date"),
    ("Я уточню у мастера и перезвоню вам.", "personal_promise"),
    ("Для вас сделаем скидку 10 %.", "personal_promise"),
])
def test_it_recognises_replies_about_one_customer(reply, why):
    assert learning.personal_reason(reply, customer_name="Айгерим Н.") == why


def test_a_general_reply_is_not_personal():
    assert learning.personal_reason("Да, бесплатная парковка во дворе на 20 машин.", customer_name="Айгерим") == ""


@pytest.mark.parametrize("reply", [
    # A holiday calendar is the business's schedule, not one customer's day.
    "В праздники занятий нет: 1–2 января, 8 марта, 21–23 марта (Наурыз), 1 и 9 мая.",
    "31 декабря работаем до 16:00; 1 января — выходной.",
    # The day an offer runs until applies to every customer.
    "Акции до 30 сентября: при оплате сразу за 3 месяца — скидка 15 %.",
    # A building number is no date.
    "Бокс на Аль-Фараби: пр. Аль-Фараби, 77/8, подземный паркинг, уровень -1.",
])
def test_a_calendar_a_deadline_or_an_address_is_not_a_personal_date(reply):
    assert learning.personal_reason(reply) == ""


@pytest.mark.parametrize("reply", [
    # How the business tells every customer (a third person's procedure), not a promise to one customer.
    "Срок — 5–7 рабочих дней. Когда заказ будет готов, администратор напишет вам в WhatsApp.",
    # A decimal is no date: a lens index «1.6» is not the 1st of June.
    "Линзы с фильтром: индекс 1.56 — 16 000 ₸; утончённые 1.6 — 22 000 ₸.",
])
def test_a_procedure_or_a_decimal_is_not_personal(reply):
    assert learning.personal_reason(reply) == ""


@pytest.mark.parametrize(("reply", "why"), [("Напишу вам, когда мастер освободится.", "personal_promise"),
                                            ("Мы напишем вам, стоимость 7000 ₸.", "personal_promise"),
                                            ("Запишем на 1.06, стоимость 7000 ₸.", "specific_date")])
def test_a_first_person_promise_and_a_two_digit_month_stay_personal(reply, why):
    assert learning.personal_reason(reply) == why


def test_a_name_written_in_cyrillic_is_also_learned_as_the_answer_spells_it():
    answer = "Да: обслуживание Shimano — настройка тормозов 3 000 ₸. iPhone не ремонтируем."
    assert learning.russian_phrasing("тормоза шимано настроите сколько", answer) == "тормоза shimano настроите сколько"
    assert learning.russian_phrasing("айфон чините?", answer) == "iphone чините"
    assert learning.russian_phrasing("тормоза настроите сколько", answer) == ""  # no name: nothing to add


@pytest.mark.parametrize("reply", ["Ждём вас 16 декабря в 12:00, стоимость 7000 ₸.", "Мастер сможет 15.03 после обеда."])
def test_one_day_named_for_the_customer_stays_personal(reply):
    assert learning.personal_reason(reply) == "specific_date"


def test_answer_topic_is_the_label_the_answer_opens_with():
    assert learning.answer_topic("Форма: малыши — купальник; хип-хоп — кроссовки. Форму можно купить у нас: набор 9 000 ₸.") == "Форма"
    assert learning.answer_topic("Пробное занятие — 1 000 ₸, для малышей бесплатно.") == "Пробное занятие"
    # A list of labelled parts: its first label names one part, not the topic.
    assert learning.answer_topic("Центр: балет, хип-хоп. Юго-Восток: малыши, хип-хоп.") == ""
    assert learning.answer_topic("Занятие длится 60 минут.") == ""
    assert learning.answer_topic("До 12 детей в группе.") == ""


def test_a_reply_stating_an_items_facts_proposes_another_phrasing(tenant_a, stable):
    proposal = kb_suggestion_propose(tenant=tenant_a, questions=["во сколько открываетесь утром?"],
                                     reply="Мы открыты каждый день с 10:00 до 21:00", reason="no_knowledge", conversation_id=7)
    suggestion = proposal.suggestion
    assert proposal.created and suggestion.kind == "alt_question" and suggestion.target_external_id == "hours"
    suggestion, changed = kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk)
    draft = KnowledgeVersion.objects.get(tenant=tenant_a, status="draft")
    assert changed and suggestion.version == draft and draft.based_on == stable
    item = KnowledgeItem.objects.get(version=draft, external_id="hours")
    assert item.alt_questions == ["во сколько открываетесь утром?"] and item.answer == KB[1]["answer"]
    assert KnowledgeItem.objects.get(version=stable, external_id="hours").alt_questions == []  # stable untouched


def test_new_facts_propose_a_new_item_and_the_same_question_counts(tenant_a, stable):
    questions = ["Есть ли у вас парковка?", "а парковка есть?", "парковка у вас есть?", "Парковка есть?", "есть парковка?"]
    for number, question in enumerate(questions, start=1):
        kb_suggestion_propose(tenant=tenant_a, questions=["Здравствуйте", question], reply="Да, бесплатная парковка во дворе.",
                              conversation_id=number)
    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.kind == "new_item" and suggestion.count == 5 and suggestion.conversation_ids == [1, 2, 3, 4, 5]
    # The same conversation learned twice is one count.
    assert kb_suggestion_propose(tenant=tenant_a, questions=["парковка есть?"], reply="Да, бесплатная парковка во дворе.",
                                 conversation_id=5).skipped == "already counted"
    assert KnowledgeSuggestion.objects.get().count == 5
    suggestion, _ = kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk)
    item = KnowledgeItem.objects.get(version=suggestion.version, external_id=suggestion.item_external_id)
    assert item.question == "Есть ли у вас парковка?" and set(item.alt_questions) == set(questions[1:])
    assert item.external_id.startswith("learned-") and "learned" in item.tags


def test_the_same_managers_text_to_differently_worded_questions_is_one_item(tenant_a, stable):
    # Two customers ask about one thing in words that share nothing; the manager sends the same text
    # (no number in it). Two items with one answer would split every later question between them.
    reply = "Да, детское кресло и бустер есть бесплатно, скажите администратору при записи."
    first = kb_suggestion_propose(tenant=tenant_a, questions=["С ребенком можно прийти? Кресло есть?"], reply=reply,
                                  conversation_id=1)
    second = kb_suggestion_propose(tenant=tenant_a, questions=["бустер для малыша дадите?"], reply=reply, conversation_id=2)
    assert second.suggestion.pk == first.suggestion.pk and not second.created
    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.count == 2 and suggestion.phrasings == ["бустер для малыша дадите?"]
    # A different answer to a differently worded question stays another suggestion.
    kb_suggestion_propose(tenant=tenant_a, questions=["Интернет есть, пока жду?"],
                          reply="Да, бесплатный Wi-Fi в зоне ожидания, пароль у администратора.", conversation_id=3)
    assert KnowledgeSuggestion.objects.count() == 2


@pytest.mark.parametrize(("reason", "reply", "questions"), [
    ("booking", "Да, есть окно в 15:00.", ["Можно записаться?"]),
    ("complaint", "Вернём 5000 ₸ в течение недели.", ["Мне не понравился маникюр"]),
    ("no_knowledge", "Хорошо, ждём вас!", ["Есть ли парковка?"]),  # no fact to learn
    ("no_knowledge", "Да, бесплатная парковка.", ["ок", "спасибо"]),  # no question
    ("no_knowledge", "Маникюр с покрытием стоит 5000 ₸.", ["Сколько стоит маникюр?"]),  # already a phrasing
])
def test_nothing_is_proposed_for_personal_reasons_or_nothing_to_learn(tenant_a, stable, reason, reply, questions):
    proposal = kb_suggestion_propose(tenant=tenant_a, questions=questions, reply=reply, reason=reason)
    assert proposal.suggestion is None and proposal.skipped
    assert not KnowledgeSuggestion.objects.exists()


def test_decisions_are_once_and_tenant_scoped(tenant_a, tenant_b, stable):
    suggestion = kb_suggestion_propose(tenant=tenant_a, questions=["Есть ли парковка?"], reply="Да, бесплатная парковка.").suggestion
    with pytest.raises(ApplicationError):
        kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk, tenant=tenant_b)
    with pytest.raises(ApplicationError):
        kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk, answer="Айгерим, для вас место у входа.")
    assert kb_suggestion_reject(actor=ACTOR, suggestion_id=suggestion.pk)[1] is True
    assert kb_suggestion_reject(actor=ACTOR, suggestion_id=suggestion.pk)[1] is False
    assert kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk)[1] is False
    assert AuditLog.objects.filter(action="kb.suggestion_rejected").count() == 1
    assert not KnowledgeVersion.objects.filter(status="draft").exists()


def test_two_accepts_share_one_open_draft(tenant_a, stable):
    first = kb_suggestion_propose(tenant=tenant_a, questions=["Есть ли парковка?"], reply="Да, бесплатная парковка.").suggestion
    second = kb_suggestion_propose(tenant=tenant_a, questions=["Можно с собакой?"],
                                   reply="С животными нельзя, кроме собак-поводырей.").suggestion
    kb_suggestion_accept(actor=ACTOR, suggestion_id=first.pk)
    kb_suggestion_accept(actor=ACTOR, suggestion_id=second.pk)
    draft = kb_draft_open(actor=ACTOR, tenant=tenant_a)
    assert KnowledgeVersion.objects.filter(status="draft").count() == 1 and draft.item_count == len(KB) + 2


def test_a_paused_item_is_lifted_by_an_operator_or_by_an_edit(tenant_a, stable):
    pause, created = kb_item_pause(actor=ACTOR, tenant=tenant_a, external_id="hours", marks=2)
    assert created and kb_paused_items(tenant_a, stable) == {"hours"}
    assert kb_item_pause(actor=ACTOR, tenant=tenant_a, external_id="hours")[1] is False
    draft = kb_draft_open(actor=ACTOR, tenant=tenant_a)
    assert kb_paused_items(tenant_a, draft) == {"hours"}  # same content in the clone
    from knowledge.services import kb_item_save

    item = KnowledgeItem.objects.get(version=draft, external_id="hours")
    kb_item_save(actor=ACTOR, version=draft, external_id="hours", question=item.question, answer="Мы работаем с 9:00 до 20:00.",
                 item=item)
    assert kb_paused_items(tenant_a, draft) == set() and kb_paused_items(tenant_a, stable) == {"hours"}
    assert kb_item_unpause(actor=ACTOR, pause_id=pause.pk) is True
    assert kb_paused_items(tenant_a, stable) == set()


@pytest.fixture
def low_risk_for(settings, tmp_path):
    """Write a policy file marking kb.promote_learned low risk for the given tenant slugs."""
    import yaml

    def write(*slugs):
        data = yaml.safe_load(settings.DECISIONS_FILE.read_text(encoding="utf-8"))
        data["write_risk_policy"]["actions"]["kb.promote_learned"]["low_risk_tenants"] = list(slugs)
        path = tmp_path / "decisions.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        settings.DECISIONS_FILE = path
        policy._policy_data.cache_clear()

    yield write
    policy._policy_data.cache_clear()


def _cases(*rows):
    return [{"id": f"c{n}", "category": category, "messages": [text], "expect": expect, "kb_ids": [], "must_contain": must,
             "must_not_contain": []} for n, (category, text, expect, must) in enumerate(rows)]


def test_a_low_risk_tenant_is_promoted_at_once_when_nothing_got_worse(tenant_a, stable, low_risk_for, settings):
    low_risk_for("alpha")
    kb_eval_set_save(actor=ACTOR, tenant=tenant_a, cases=_cases(
        ("faq", "Сколько стоит маникюр?", "answer", ["5000"]), ("faq", "Есть ли у вас парковка?", "answer", ["парковка"]),
        ("booking", "Запишите меня на завтра", "escalate", [])))
    suggestion = kb_suggestion_propose(tenant=tenant_a, questions=["Есть ли у вас парковка?"],
                                       reply="Да, бесплатная парковка во дворе.").suggestion
    kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk)
    outcome = kb_learned_promotion_request(tenant=tenant_a)
    assert outcome.status == "executed"
    assert KnowledgeVersion.objects.get(tenant=tenant_a, status="stable").number == 2
    assert not VerificationRequest.objects.exists()


def test_a_low_risk_tenant_is_not_promoted_when_a_metric_got_worse(tenant_a, stable, low_risk_for):
    low_risk_for("alpha")
    kb_eval_set_save(actor=ACTOR, tenant=tenant_a, cases=_cases(("faq", "Сколько стоит маникюр?", "answer", ["5000"])))
    suggestion = kb_suggestion_propose(tenant=tenant_a, questions=["Сколько стоит маникюр с дизайном?"],
                                       reply="Маникюр с дизайном стоит 7000 ₸.").suggestion
    kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk)
    draft = KnowledgeVersion.objects.get(tenant=tenant_a, status="draft")
    # Make the draft worse on purpose: the manicure price item loses its price.
    from knowledge.services import kb_item_save

    item = KnowledgeItem.objects.get(version=draft, external_id="price-manicure")
    kb_item_save(actor=ACTOR, version=draft, external_id=item.external_id, question=item.question,
                 answer="Цены на маникюр уточняйте у администратора.", item=item)
    assert kb_learned_promotion_request(tenant=tenant_a) is None
    assert KnowledgeVersion.objects.get(tenant=tenant_a, status="stable").number == 1
    refused = AuditLog.objects.get(action="kb.promote_learned_refused")
    assert "worse" in refused.payload["error"] or "below" in refused.payload["error"]


def test_a_high_risk_tenant_gets_one_verification_request_per_draft(tenant_a, stable):
    suggestion = kb_suggestion_propose(tenant=tenant_a, questions=["Есть ли парковка?"], reply="Да, бесплатная парковка.").suggestion
    kb_suggestion_accept(actor=ACTOR, suggestion_id=suggestion.pk)
    assert kb_learned_promotion_request(tenant=tenant_a).status == "pending"
    assert kb_learned_promotion_request(tenant=tenant_a) is None
    request = VerificationRequest.objects.get()
    assert request.action == "kb.promote_learned" and "принято предложений — 1" in request.reason
    assert KnowledgeVersion.objects.get(tenant=tenant_a, status="stable").number == 1


@pytest.mark.parametrize(("question", "answer", "expected"), [
    ("Туған күнге жеңілдік бар ма?", "", {"день", "рождения", "скидка"}),
    ("skolko stoit manikur?", "Маникюр стоит 5000 ₸.", {"стоит", "маникюр"}),  # the manager's spelling, not "маникур"
])
def test_a_question_in_another_language_gets_a_russian_phrasing(question, answer, expected):
    assert expected <= set(learning.russian_phrasing(question, answer).split())


def test_a_russian_question_needs_no_second_phrasing():
    assert learning.russian_phrasing("Сколько стоит маникюр?") == ""


@pytest.mark.parametrize(("reply", "item_answer", "same"), [
    # The numbers of a schedule are not a discount's or a waiting time's, whatever words they share.
    ("Второму ребёнку скидка 10 % на абонемент, третьему 15 % на занятия.", "Занятия в будни с 15:00 до 20:30, в субботу с 10:00.", False),
    ("Ребёнок ждёт администратора в холле до 15 минут.", "Администратор на месте с 15:00, занятия с 10:00.", False),
    ("Мы открыты каждый день с 10:00 до 21:00", "Мы работаем ежедневно с 10:00 до 21:00.", True),
    # A short reply whose words all occur in a broad overview states a relation the overview lacks.
    ("Балет только в студии Центр, народный танец только на Юго-Востоке.",
     "Две студии: Центр и Юго-Восток. Направления: балет, хореография для малышей, хип-хоп, бальные танцы, народный танец. "
     "Принимаем детей от трёх лет, есть пробное занятие и летний лагерь.", False),
    ("Бесплатная парковка во дворе для клиентов", "Для клиентов бесплатная парковка во дворе.", True),
])
def test_same_facts_compares_what_the_numbers_measure_and_the_whole_item(reply, item_answer, same):
    assert learning.same_facts(reply, item_answer) is same


def test_equal_numbers_about_other_things_are_another_fact():
    # The item's anaesthesia costs what the reply's sedation costs: the reply is a new fact, not a phrasing.
    item = "Лечение кариеса: средний — 15 000 ₸, глубокий — 25 000 ₸. Местная анестезия — 2 500 ₸ дополнительно."
    reply = "Общий наркоз не проводим. Для тревожных пациентов есть седация закисью азота — 15 000 ₸ за час, анестезия 2 500 ₸."
    assert learning.same_facts(reply, item) is False
    assert learning.same_facts("Мы открыты каждый день с 10:00 до 21:00", "Мы работаем ежедневно с 10:00 до 21:00.") is True
    assert learning.same_facts("Маникюр с покрытием стоит 5000 ₸.", "Маникюр с покрытием гель-лаком стоит 5000 ₸.") is True


def test_the_asking_message_of_a_burst_becomes_the_question(tenant_a, stable):
    proposal = kb_suggestion_propose(tenant=tenant_a, questions=["Здрасте", "парковка есть?", "я в Самал поеду на машине"],
                                     reply="В Самале своей парковки нет, рядом городская платная парковка для машин.")
    assert proposal.suggestion.question == "парковка есть?"



def test_answer_topic_reads_a_label_with_a_parenthesis_a_hyphenated_name_or_six_content_words():
    assert learning.answer_topic("Комплексная уборка квартиры (окна, кухня, санузел): студия — 25 000 ₸, двушка — 35 000 ₸.") \
        == "Комплексная уборка квартиры"
    assert learning.answer_topic("Ночная доставка цветов с открыткой по всему городу: 3 000 ₸.") \
        == "Ночная доставка цветов с открыткой по всему городу"
    assert learning.answer_topic("Экспресс-чистка пуховика: 4 000 ₸, готово за сутки.") == "Экспресс-чистка пуховика"


def test_answer_topic_names_only_what_comes_before_the_labels_verb():
    # What follows the verb is a statement about the topic: "покрытию" is no name of the design price.
    assert learning.answer_topic("Дизайн оплачивается дополнительно к покрытию: френч — 2 000 ₸, стразы — 100 ₸ за штуку.") == "Дизайн"
    assert learning.answer_topic("Зал на Сейфуллина работает: пн–пт с 07:00 до 23:00.") == "Зал на Сейфуллина"
    # Before a verb, a phrase that opens with a preposition is a circumstance, not the subject.
    assert learning.answer_topic("На Сейфуллина есть раздевалка с душем: полотенце — 500 ₸.") == ""
    assert learning.answer_topic("С острой болью принимаем без записи: приходите до 18:00.") == ""


def test_answer_parts_are_not_the_topic_when_what_was_asked_is_stated_under_each_label():
    answer = "Кенесары: бесплатная парковка во дворе на 10 машин. Сарыарка: своей парковки нет, рядом платная городская парковка."
    assert learning.answer_parts(answer) == "Кенесары, Сарыарка"
    # The customer asked about parking; the labels are the halls it is stated for, not the topic.
    assert learning.answer_parts(answer, "парковка у вас есть?") == ""
    coaches = "Инструктор по боулдерингу — Арман, стаж 8 лет, ведёт в обоих залах. Детский тренер — Алия, только на Кенесары."
    assert learning.answer_parts(coaches, "Кто ведет боулдеринг?") == "Инструктор по боулдерингу, Детский тренер"


def test_answer_parts_reads_two_parallel_labelled_values_of_one_sentence():
    # The customer asked about check-in; the manager's one sentence states check-in and check-out alike, so the
    # learned item is about both (a later "выезд до скольки" must not go to a learned late check-out item alone).
    assert learning.answer_parts("Заезд (check-in) — с 14:00, выезд (check-out) — до 12:00. В обоих корпусах одинаково.",
                                 "Во сколько заезд?") == "Заезд, выезд"
    # A second value for whom ("у малышей") is a circumstance of the same topic, not a second topic.
    assert learning.answer_parts("Разовое занятие — 3 000 ₸, у малышей — 2 500 ₸.") == ""
    # Nor a value that goes on in a sentence of its own form ("…: …").
    assert learning.answer_parts("Стрижка — 5 000 ₸, укладка: 3 000 ₸.") == ""


def test_a_latin_script_question_is_stored_as_the_whole_text_reads_not_word_by_word():
    # Per word, "est" is the verb «ест» (eats): stored as a phrasing it made the learned parking item hold a content
    # word that every later "… est'?" question also has. Read as a text it is «есть», a filler.
    assert learning.russian_phrasing("parkovka est?", "Бесплатная парковка у входа.") == "парковка есть"
    assert "маникюр" in learning.russian_phrasing("skolko stoit manikur?", "Маникюр — 5 000 ₸.")
