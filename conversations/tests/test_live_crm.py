"""Booking with a real Celery worker against the fake CRM: the worker dies after `book_record`
reached the CRM but before the reply — the customer still ends with one record and one
confirmation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.models import SandboxMessage, Turn
from conversations.services import inbound_accept, outbox_sweep, payload_parse, turn_run_due
from conversations.testing.live import LiveWorker
from conversations.tests.test_live import wait_until
from crm.models import BookingSession, CrmService
from crm.services import crm_connect
from crm.testing.fake_crm import DEMO_SERVICES, FakeCrm
from imperium.core.actors import Actor
from tenants.tests.factories import ClientFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

# A master who works every day, so the test holds whatever day it runs on.
STAFF = [{"id": 11, "name": "Айгерим", "specialization": "мастер", "services": [s["id"] for s in DEMO_SERVICES], "days_off": []}]


def _write(tenant, text, n):
    accepted = inbound_accept(tenant=tenant, message=payload_parse(
        {"message_id": f"wamid.crm{n}", "from": "+77011234567", "type": "text", "text": text}))
    return accepted.conversation_id


def test_a_worker_killed_after_book_record_still_gives_one_record_and_one_confirmation(tmp_path, inline, settings):
    settings.CRM_TIMEOUT = 5.0
    with FakeCrm(staff=STAFF) as fake:
        tenant = ClientFactory(settings__coalesce_window_seconds=0)
        crm_connect(actor=Actor.system("test"), tenant=tenant, kind="altegio", company_id=fake.company_id,
                    partner_token=fake.partner_token, user_token=fake.user_token, base_url=f"{fake.url}/api/v1")
        CrmService.objects.filter(tenant=tenant, crm_id=101).update(keywords="маникюр")
        conversation_id = _write(tenant, "Запишите на маникюр завтра в 15:00 к Айгерим", 1)
        with inline():
            turn_run_due(conversation_id=conversation_id)
        assert SandboxMessage.objects.get().text.startswith("Записать вас на маникюр с покрытием завтра")

        _write(tenant, "Да", 2)
        fake.add_fault("lost", seconds=60, endpoint="book_record")  # the record is made, the answer never comes
        worker = LiveWorker(tmp_path, CHATFLOW_BASE_URL="", CRM_TIMEOUT="30").start()
        try:
            worker.send("conversations.turn_run", [conversation_id], queue="stable")
            assert wait_until(lambda: len(fake.records) == 1, timeout=60), worker.log()
            worker.kill()  # SIGKILL between book_record and the reply
        finally:
            worker.stop()

        turn = Turn.objects.filter(status="processing").get()
        assert BookingSession.objects.get().status == "booking"
        assert SandboxMessage.objects.count() == 1  # no confirmation yet
        with inline():
            outbox_sweep(now=turn.lease_expires_at + timedelta(seconds=1))  # resumes the turn

        assert len(fake.records) == 1 and len(fake.calls("book_record")) == 1  # looked up, not booked again
        assert len(fake.calls("records")) >= 1
        turn.refresh_from_db()
        assert turn.status == "answered"
        session = BookingSession.objects.get()
        assert session.status == "done" and session.record_id == fake.records[0].id
        confirmations = [m.text for m in SandboxMessage.objects.all() if m.text.startswith("Готово!")]
        assert len(confirmations) == 1 and str(fake.records[0].id) in confirmations[0]


def test_request_proposal_yes_through_a_real_worker(tmp_path):
    with FakeCrm(staff=STAFF) as fake:
        tenant = ClientFactory(settings__coalesce_window_seconds=0)
        crm_connect(actor=Actor.system("test"), tenant=tenant, kind="yclients", company_id=fake.company_id,
                    partner_token=fake.partner_token, user_token=fake.user_token, base_url=f"{fake.url}/api/v1")
        CrmService.objects.filter(tenant=tenant, crm_id=101).update(keywords="маникюр")
        worker = LiveWorker(tmp_path, CHATFLOW_BASE_URL="").start()
        try:
            conversation_id = _write(tenant, "Запишите на маникюр послезавтра в 12:00", 1)
            worker.send("conversations.turn_run", [conversation_id], queue="stable")
            assert wait_until(lambda: SandboxMessage.objects.count() == 1, timeout=60), worker.log()
            assert SandboxMessage.objects.get().text.startswith("Записать вас на маникюр с покрытием послезавтра")
            _write(tenant, "да, записывайте", 2)
            worker.send("conversations.turn_run", [conversation_id], queue="stable")
            worker.send("conversations.turn_run", [conversation_id], queue="stable")  # a duplicate task
            assert wait_until(lambda: SandboxMessage.objects.count() == 2, timeout=60), worker.log()
        finally:
            worker.stop()
    assert len(fake.records) == 1 and len(fake.calls("book_record")) == 1
    assert SandboxMessage.objects.order_by("pk").last().text.startswith("Готово! Вы записаны")
