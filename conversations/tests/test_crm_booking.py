"""Booking through the salon's CRM, through the webhook and the pipeline, against the fake CRM
(a real HTTP server speaking the Altegio protocol)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conversations.models import Escalation, OutboundMessage, SandboxMessage
from conversations.services import turn_run_due
from conversations.tests.helpers import RecordingNotifier, conversation_of
from crm.models import BookingSession, CrmConnection, CrmRecord, CrmService, VisitOptOut
from crm.services import crm_connect
from crm.testing.fake_crm import FakeCrm
from imperium.core.actors import Actor
from incidents.models import Alert
from tenants.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

# Sunday 6 December 2026, 10:00 in Almaty (UTC+5). Айгерим works on Monday, Дана does not.
T0 = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
PHONE = "+77011234567"


@pytest.fixture
def fake_crm(settings):
    settings.CRM_TIMEOUT = 2.0
    with FakeCrm() as fake:
        yield fake


@pytest.fixture
def salon(fake_crm):
    with time_machine.travel(T0, tick=False):
        tenant = ClientFactory(settings__coalesce_window_seconds=0)
        crm_connect(actor=Actor.system("test"), tenant=tenant, kind="altegio", company_id=fake_crm.company_id,
                    partner_token=fake_crm.partner_token, user_token=fake_crm.user_token, base_url=f"{fake_crm.url}/api/v1")
    CrmService.objects.filter(tenant=tenant, crm_id=101).update(keywords="маникюр, гель-лак")
    return tenant


def say(webhook, inline, tenant, text, *, phone=PHONE):
    """The customer writes; the turn runs (window 0); returns what the bot sent in that turn."""
    before = set(SandboxMessage.objects.values_list("pk", flat=True))
    assert webhook.post(tenant, text=text, **{"from": phone}).status_code == 200
    with inline():
        turn_run_due(conversation_id=conversation_of(tenant, phone).pk)
    return [m.text for m in SandboxMessage.objects.exclude(pk__in=before).order_by("pk")]


def test_it_proposes_then_books_exactly_one_record_on_yes(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        [proposal] = say(webhook, inline, salon, "Здравствуйте! Запишите меня на маникюр с покрытием завтра в 15:00 к Айгерим")
        assert proposal.startswith("Записать вас на маникюр с покрытием завтра, 7 декабря, в 15:00 к Айгерим?")
        assert "5\u00a0000–6\u00a0000 ₸" in proposal and "1 ч 30 мин" in proposal and "«да» или «нет»" in proposal
        assert fake_crm.records == []  # nothing written before the customer confirmed
        traveller.shift(30)
        [confirmation] = say(webhook, inline, salon, "Да")
    [record] = fake_crm.records
    assert record.staff_id == 11 and record.service_ids == [101] and record.phone == PHONE
    assert record.start == datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert confirmation.startswith("Готово! Вы записаны на маникюр с покрытием завтра, 7 декабря, в 15:00 к Айгерим")
    assert str(record.id) in confirmation
    assert len(fake_crm.calls("book_record")) == 1 and len(fake_crm.calls("book_check")) == 1
    session = BookingSession.objects.get()
    assert session.status == "done" and session.record_id == record.id
    assert CrmRecord.objects.get(tenant=salon).record_id == record.id
    card = Alert.objects.get(dedup_key__endswith=f"crm-booked:{session.pk}")  # the managers' card
    assert "Новая запись через бота" in card.text and "+7701•••4567" in card.text


def test_a_second_yes_books_nothing_more_and_sends_no_second_confirmation(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "запишите на маникюр завтра в 15:00")
        traveller.shift(20)
        [first] = say(webhook, inline, salon, "да")
        traveller.shift(5)
        [second] = say(webhook, inline, salon, "да да")
    assert len(fake_crm.records) == 1 and len(fake_crm.calls("book_record")) == 1
    assert first.startswith("Готово!") and not second.startswith("Готово!")
    assert second == "Вы уже записаны, ничего дополнительно подтверждать не нужно. Ждём вас!"


def test_no_books_nothing(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "запишите на маникюр завтра в 15:00")
        traveller.shift(20)
        [reply] = say(webhook, inline, salon, "нет, спасибо")
    assert fake_crm.records == [] and fake_crm.calls("book_record") == []
    assert reply.startswith("Хорошо, не записываю")


def test_an_availability_question_lists_real_free_times_with_price_and_length(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        fake_crm.book_directly(staff_id=0 or 11, service_id=101, start=datetime(2026, 12, 7, 9, 0, tzinfo=UTC))  # 14:00 local taken
        [reply] = say(webhook, inline, salon, "есть окошко завтра после обеда на маникюр к Айгерим?")
    assert reply.startswith("Маникюр с покрытием (5\u00a0000–6\u00a0000 ₸, 1 ч 30 мин) завтра, 7 декабря к Айгерим свободно:")
    times = reply.split("свободно: ")[1].split(". ")[0].split(", ")
    assert 2 <= len(times) <= 4 and "14:00" not in times and "14:30" not in times
    assert all("13:00" <= t < "18:00" for t in times)


def test_a_taken_slot_gets_the_nearest_free_ones(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        fake_crm.book_directly(staff_id=11, service_id=101, start=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))  # 15:00 local
        [reply] = say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        assert reply.startswith("К сожалению, завтра, 7 декабря в 15:00 к Айгерим уже занято. Ближайшее свободное время:")
        assert "16:30" in reply and "15:00," not in reply
        traveller.shift(20)
        [proposal] = say(webhook, inline, salon, "давайте в 16:30")
        assert proposal.startswith("Записать вас на маникюр с покрытием завтра, 7 декабря, в 16:30 к Айгерим?")


def test_a_slot_taken_between_proposal_and_yes_offers_alternatives_and_books_nothing(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        fake_crm.book_directly(staff_id=11, service_id=101, start=datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
        traveller.shift(20)
        [reply] = say(webhook, inline, salon, "да")
    assert "уже занято" in reply and "Ближайшее свободное время" in reply
    assert [r.phone for r in fake_crm.records] == ["+77000000000"]  # only the other customer's record
    assert BookingSession.objects.get().status == "collecting"


def test_crm_down_hands_over_with_the_collected_details_and_never_guesses(webhook, inline, salon, fake_crm):
    fake_crm.fail(503, times=10)
    with time_machine.travel(T0, tick=False):
        [holding] = say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
    escalation = Escalation.objects.get()
    assert escalation.reason == "dependency_down"
    assert escalation.detail["crm"] == "handed_over" and "CRM unavailable" in escalation.detail["why"]
    collected = escalation.detail["collected"]
    assert collected["service"] == "Маникюр с покрытием" and collected["day"] == "2026-12-07"
    assert collected["phone"].startswith("+7701•••4567·")
    assert "Айгерим" in escalation.detail["message"]
    assert "15:00" not in holding and "свобод" not in holding  # the tenant's holding reply, no slot
    assert [e.reason for e in RecordingNotifier.escalations] == ["dependency_down"]


def test_book_record_answer_lost_is_looked_up_not_repeated(webhook, inline, salon, fake_crm, settings):
    settings.CRM_TIMEOUT = 0.5
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        fake_crm.add_fault("lost", seconds=2, endpoint="book_record")  # booked, then no answer
        traveller.shift(20)
        [reply] = say(webhook, inline, salon, "да")
    assert len(fake_crm.records) == 1 and len(fake_crm.calls("book_record")) == 1
    assert len(fake_crm.calls("records")) >= 1  # looked up by phone and time
    assert reply.startswith("Готово!") and str(fake_crm.records[0].id) in reply


def test_a_401_marks_the_connection_broken_alerts_once_and_stops_calling(webhook, inline, salon, fake_crm):
    fake_crm.partner_token = "rotated-by-the-salon"
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00")
        calls = len(fake_crm.calls())
        traveller.shift(60)
        say(webhook, inline, salon, "Запишите на педикюр послезавтра в 12:00", phone="+77019998877")
    assert CrmConnection.objects.get(tenant=salon).status == "broken"
    assert Alert.objects.filter(dedup_key__endswith=f"crm-broken:{salon.slug}").count() == 1
    assert len(fake_crm.calls()) == calls  # no call after the connection broke
    assert Escalation.objects.count() == 2


def test_a_group_booking_goes_to_a_manager(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        say(webhook, inline, salon, "Нас двое с подругой, запишите на маникюр завтра в 15:00")
    escalation = Escalation.objects.get()
    assert escalation.reason == "booking" and escalation.detail["why"] == "group booking"
    assert fake_crm.calls("book_record") == []


def test_it_hands_over_after_two_unanswered_questions(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        first = say(webhook, inline, salon, "Хочу записаться")
        assert "на какую услугу" in first[0]
        traveller.shift(20)
        second = say(webhook, inline, salon, "ну туда же куда в прошлый раз, записаться")
        assert "на какую услугу" in second[0]
        traveller.shift(20)
        say(webhook, inline, salon, "записаться хочу, к вам")
    escalation = Escalation.objects.get()
    assert escalation.detail["why"] == "not resolved in 2 exchanges"


def test_cancel_own_record_with_confirmation(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        traveller.shift(20)
        say(webhook, inline, salon, "да")
        traveller.shift(600)
        [proposal] = say(webhook, inline, salon, "Отмените мою запись, пожалуйста")
        assert proposal.startswith("Отменить вашу запись на маникюр с покрытием завтра, 7 декабря, в 15:00 к Айгерим?")
        traveller.shift(20)
        [done] = say(webhook, inline, salon, "да")
    assert done.startswith("Запись на маникюр с покрытием завтра, 7 декабря, в 15:00 отменена")
    assert fake_crm.records == [] and len(fake_crm.calls("record_delete")) == 1
    assert CrmRecord.objects.get().status == "cancelled"


def test_another_customer_cannot_cancel_a_record_that_is_not_theirs(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        traveller.shift(20)
        say(webhook, inline, salon, "да")
        traveller.shift(60)
        say(webhook, inline, salon, "Отмените мою запись", phone="+77015550000")
    assert len(fake_crm.records) == 1 and fake_crm.calls("record_delete") == []
    assert Escalation.objects.get().detail["why"] == "no upcoming record found for the customer's phone"


def test_another_tenants_records_are_never_visible(webhook, inline, salon, fake_crm):
    other = ClientFactory(settings__coalesce_window_seconds=0)
    with time_machine.travel(T0, tick=False) as traveller:
        crm_connect(actor=Actor.system("test"), tenant=other, kind="yclients", company_id=fake_crm.company_id,
                    partner_token=fake_crm.partner_token, user_token=fake_crm.user_token, base_url=f"{fake_crm.url}/api/v1")
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        traveller.shift(20)
        say(webhook, inline, salon, "да")
        traveller.shift(60)
        say(webhook, inline, other, "Отмените мою запись")  # same phone, other salon
    assert len(fake_crm.records) == 1 and fake_crm.calls("record_delete") == []
    assert CrmRecord.objects.for_tenant(other).count() == 0
    assert Escalation.objects.get(tenant=other).detail["why"] == "no upcoming record found for the customer's phone"


def test_stop_opts_out_of_visit_messages(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        [reply] = say(webhook, inline, salon, "стоп")
    assert reply.startswith("Хорошо, больше не будем присылать напоминания")
    assert VisitOptOut.objects.filter(tenant=salon).count() == 1


def test_a_tenant_without_crm_still_hands_bookings_over(webhook, inline, fake_crm):
    tenant = ClientFactory(settings__coalesce_window_seconds=0)
    with time_machine.travel(T0, tick=False):
        say(webhook, inline, tenant, "Запишите меня на маникюр завтра в 15:00")
    assert Escalation.objects.get().reason in ("booking", "no_knowledge")
    assert fake_crm.calls() == [] and OutboundMessage.objects.count() == 1


def _reminded_record(tenant, fake_crm, starts_at):
    from conversations.customers import customer_key
    from crm.services import crm_record_upsert

    crm_record = fake_crm.book_directly(staff_id=11, service_id=101, start=starts_at, phone=PHONE, fullname="Айгерим")
    record = crm_record_upsert(tenant=tenant, record_id=crm_record.id, customer_key=customer_key(PHONE), customer_phone=PHONE,
                               customer_name="Айгерим", starts_at=starts_at, source="sync", service_id=101,
                               service_title="Маникюр с покрытием", staff_id=11, staff_name="Айгерим", seance_length=5400)
    CrmRecord.objects.filter(pk=record.pk).update(reminded_day_before_at=T0)
    return record


def test_yes_to_a_reminder_confirms_the_visit(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        record = _reminded_record(salon, fake_crm, datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
        [reply] = say(webhook, inline, salon, "Да, приду")
    assert reply == "Спасибо, ждём вас!"
    record.refresh_from_db()
    assert record.confirmed_by_customer and len(fake_crm.records) == 1


def test_cancel_in_answer_to_a_reminder_cancels_the_own_record(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        record = _reminded_record(salon, fake_crm, datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
        [reply] = say(webhook, inline, salon, "отменить")
    assert reply.startswith("Запись на маникюр с покрытием завтра, 7 декабря, в 15:00 отменена")
    assert fake_crm.records == []
    record.refresh_from_db()
    assert record.status == "cancelled"


def test_a_low_rating_after_the_thank_you_goes_to_managers_as_a_complaint(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        record = _reminded_record(salon, fake_crm, datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
        CrmRecord.objects.filter(pk=record.pk).update(thanked_at=T0 - timedelta(hours=2))
        say(webhook, inline, salon, "2")
    record.refresh_from_db()
    assert record.rating == 2
    escalation = Escalation.objects.get()
    assert escalation.reason == "complaint" and escalation.detail["rating"] == 2 and escalation.detail["master"] == "Айгерим"


def test_a_good_rating_is_thanked(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False):
        record = _reminded_record(salon, fake_crm, datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
        CrmRecord.objects.filter(pk=record.pk).update(thanked_at=T0 - timedelta(hours=2))
        [reply] = say(webhook, inline, salon, "5")
    assert reply == "Спасибо за оценку! Будем рады видеть вас снова." and not Escalation.objects.exists()


def test_reschedule_own_record_quotes_nothing_without_a_rule_and_moves_it(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        traveller.shift(20)
        say(webhook, inline, salon, "да")
        old_id = fake_crm.records[0].id
        traveller.shift(600)
        [proposal] = say(webhook, inline, salon, "Перенесите мою запись на завтра в 17:00")
        assert proposal.startswith("Перенести вашу запись на маникюр с покрытием с завтра, 7 декабря, 15:00 на завтра, 7 декабря, в 17:00")
        traveller.shift(20)
        [done] = say(webhook, inline, salon, "да")
    assert done.startswith("Готово! Запись перенесена: маникюр с покрытием завтра, 7 декабря, в 17:00")
    [record] = fake_crm.records
    assert record.id != old_id and record.start == datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    assert CrmRecord.objects.get(record_id=old_id).status == "cancelled"


def test_a_reschedule_whose_old_record_cannot_be_deleted_tells_the_managers_to_remove_it(webhook, inline, salon, fake_crm):
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        traveller.shift(20)
        say(webhook, inline, salon, "да")
        old_id = fake_crm.records[0].id
        traveller.shift(600)
        say(webhook, inline, salon, "Перенесите мою запись на завтра в 17:00")
        traveller.shift(20)
        fake_crm.fail(503, endpoint="record_delete", times=5)  # the CRM refuses to delete the old record
        [done] = say(webhook, inline, salon, "да")
    assert done.startswith("Готово! Запись перенесена: маникюр с покрытием завтра, 7 декабря, в 17:00")
    new = next(r for r in fake_crm.records if r.id != old_id)
    assert {r.id for r in fake_crm.records} == {old_id, new.id}  # the CRM still holds both
    assert CrmRecord.objects.get(record_id=old_id).status == "cancelled"  # no reminder for the old time
    session = BookingSession.objects.get(kind="reschedule")
    [warning] = Alert.objects.filter(dedup_key__endswith=f"crm-old-record-kept:{session.pk}")
    assert warning.severity == "warning"
    assert f"новая запись №{new.id}" in warning.text and f"старую запись №{old_id}" in warning.text
    assert "Удалите её в CRM вручную" in warning.text


def test_cancelling_quotes_the_salons_rule_from_the_stable_kb(webhook, inline, salon, fake_crm, settings):
    from imperium.core.actors import Actor as _Actor
    from knowledge.services import kb_import, kb_version_make_first_stable

    path = settings.BASE_DIR / "knowledge" / "fixtures" / "eval" / "lotus-beauty" / "kb.jsonl"
    version = kb_import(actor=_Actor.system("test"), tenant=salon, file_name=path.name, content=path.read_text(encoding="utf-8"),
                        index=False)
    kb_version_make_first_stable(actor=_Actor.system("test"), version=version)
    with time_machine.travel(T0, tick=False) as traveller:
        say(webhook, inline, salon, "Запишите на маникюр завтра в 15:00 к Айгерим")
        traveller.shift(20)
        say(webhook, inline, salon, "да")
        traveller.shift(600)
        [proposal] = say(webhook, inline, salon, "Отмените мою запись, пожалуйста")
    assert proposal.startswith("Отменить вашу запись на маникюр с покрытием завтра")
    assert "Обратите внимание: Отменить или перенести запись можно бесплатно не позднее чем за 3 часа до визита" in proposal
    assert proposal.endswith("Ответьте «да» или «нет».")


def test_a_question_about_the_cancellation_rule_is_answered_from_the_kb_not_acted_on(webhook, inline, salon, fake_crm, settings):
    from imperium.core.actors import Actor as _Actor
    from knowledge.services import kb_import, kb_version_make_first_stable

    path = settings.BASE_DIR / "knowledge" / "fixtures" / "eval" / "lotus-beauty" / "kb.jsonl"
    version = kb_import(actor=_Actor.system("test"), tenant=salon, file_name=path.name, content=path.read_text(encoding="utf-8"),
                        index=False)
    kb_version_make_first_stable(actor=_Actor.system("test"), version=version)
    with time_machine.travel(T0, tick=False):
        [reply] = say(webhook, inline, salon, "Как отменить запись?")
    assert "не позднее чем за 3 часа" in reply
    assert fake_crm.calls("record_delete") == [] and not Escalation.objects.exists()
    assert BookingSession.objects.get().status == "expired"
