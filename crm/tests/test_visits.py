"""Messages around a visit: at the right local time, never at night, once, never after «стоп»."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
import time_machine

from conversations.customers import customer_key
from conversations.models import OutboundMessage, SandboxMessage
from crm.models import CrmConnection, CrmRecord, CrmService
from crm.services import crm_record_upsert, crm_records_sync, visit_opt_out
from crm.tasks import visit_messages_send_now
from crm.tests.conftest import connected

pytestmark = pytest.mark.django_db

PHONE = "+77011234567"
ALMATY = 5  # UTC+5


def local(day, hour, minute=0):
    return datetime(2026, 12, day, hour - ALMATY, minute, tzinfo=UTC)


@pytest.fixture
def visit(fake_crm):
    tenant = connected(fake_crm)

    def make(starts_at, **fields):
        record = crm_record_upsert(tenant=tenant, record_id=5001, customer_key=customer_key(PHONE), customer_phone=PHONE,
                                   customer_name="Айгерим Садыкова", starts_at=starts_at, source="bot", service_id=101,
                                   service_title="Маникюр с покрытием", staff_name="Дана", seance_length=5400)
        CrmRecord.objects.filter(pk=record.pk).update(**fields)
        return record

    make.tenant = tenant
    return make


def sent_texts():
    return [m.text for m in SandboxMessage.objects.order_by("pk")]


@pytest.fixture
def run_at(django_capture_on_commit_callbacks):
    """run_at(when) -> the beat job's report at that moment; deliveries run inline after commit."""
    from conversations import dispatch

    def run(when):
        with time_machine.travel(when, tick=False), dispatch.inline(), django_capture_on_commit_callbacks(execute=True):
            return visit_messages_send_now()

    return run


def test_the_day_before_reminder_goes_at_the_same_local_time_the_day_before(visit, run_at):
    visit(local(8, 15))
    assert run_at(local(7, 14, 59))["sent"] == 0
    assert run_at(local(7, 15, 0))["sent"] == 1
    assert run_at(local(7, 15, 5))["sent"] == 0  # once
    [text] = sent_texts()
    assert text.startswith("Здравствуйте, Айгерим! Напоминаем: завтра, 8 декабря, в 15:00 вы записаны на маникюр с покрытием к Дана")
    assert "«да» или «отменить»" in text and "«стоп»" in text
    assert OutboundMessage.objects.get().kind == "visit"


def test_the_two_hour_reminder_and_the_thank_you(visit, run_at):
    visit(local(8, 15), reminded_day_before_at=local(7, 15))
    assert run_at(local(8, 12, 59))["sent"] == 0
    assert run_at(local(8, 13, 0))["sent"] == 1
    assert run_at(local(8, 17, 29))["sent"] == 0  # the visit ends at 16:30; the thank-you an hour later
    assert run_at(local(8, 17, 30))["sent"] == 1
    assert sent_texts()[0] == "Напоминаем: сегодня в 15:00 вы записаны на маникюр с покрытием к Дана. До встречи!"
    assert sent_texts()[1].startswith("Спасибо, что были у нас, Айгерим! Оцените, пожалуйста, визит от 1 до 5")


def test_no_message_in_quiet_hours_an_evening_visit_is_reminded_earlier(visit, run_at):
    visit(local(8, 22, 30))  # 22:30 the day before is quiet (21:00–09:00): reminded at 20:00
    assert run_at(local(7, 19, 59))["sent"] == 0
    assert run_at(local(7, 20, 0))["sent"] == 1
    CrmConnection.objects.update(quiet_hours_start=time(19, 0))
    CrmRecord.objects.update(reminded_day_before_at=None)
    assert run_at(local(7, 20, 30))["sent"] == 0  # inside the (new) quiet hours: nothing at all


def test_opted_out_customers_and_switched_off_messages_get_nothing(visit, run_at):
    visit(local(8, 15))
    CrmConnection.objects.update(remind_day_before=False)
    assert run_at(local(7, 15))["sent"] == 0
    CrmConnection.objects.update(remind_day_before=True)
    visit_opt_out(tenant=visit.tenant, customer_key=customer_key(PHONE))
    assert run_at(local(7, 15))["sent"] == 0
    assert run_at(local(8, 13))["sent"] == 0
    assert SandboxMessage.objects.count() == 0


def test_rebooking_nudge_after_the_service_interval(visit, run_at):
    visit(local(1, 12), thanked_at=local(1, 15))
    CrmService.objects.filter(crm_id=101).update(rebook_after_days=21)
    assert run_at(local(21, 12))["sent"] == 0
    assert run_at(datetime(2026, 12, 22, 7, 0, tzinfo=UTC))["sent"] == 1
    assert "прошло 21 дн. Записать вас снова?" in sent_texts()[0]


def test_records_synced_from_the_crm_get_reminders(fake_crm, run_at):
    tenant = connected(fake_crm)
    with time_machine.travel(local(7, 10), tick=False):
        fake_crm.book_directly(staff_id=12, service_id=106, start=local(8, 15), phone="+77017776655", fullname="Салтанат")
        assert crm_records_sync(connection=CrmConnection.objects.get(tenant=tenant), phone_key=customer_key) == 1
    record = CrmRecord.objects.get(tenant=tenant)
    assert record.source == "sync" and record.customer_key == customer_key("+77017776655") and record.staff_name == "Дана"
    assert run_at(local(7, 15))["sent"] == 1
    assert "Салтанат" in sent_texts()[0] and "коррекция бровей" in sent_texts()[0]
