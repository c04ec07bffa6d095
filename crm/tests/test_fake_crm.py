"""The fake CRM speaks the Altegio protocol the client expects (and refuses what the real one refuses)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from crm.clients.altegio import CrmClient, CrmError
from crm.testing.fake_crm import FakeCrm

T0 = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)  # Sunday 10:00 in Almaty


@pytest.fixture
def fake():
    with FakeCrm() as server:
        yield server


def client_for(fake, **kwargs):
    values = {"base_url": f"{fake.url}/api/v1", "company_id": fake.company_id, "partner_token": fake.partner_token,
              "user_token": fake.user_token, "timeout": 1.0, **kwargs}
    return CrmClient(**values)


def test_it_lists_services_and_masters(fake):
    client = client_for(fake)
    services = client.services()
    assert {s["title"] for s in services} >= {"Маникюр с покрытием", "Педикюр"}
    assert all({"id", "price_min", "price_max", "seance_length"} <= set(s) for s in services)
    assert [m["name"] for m in client.staff(service_ids=[104])] == ["Мадина"]


def test_it_refuses_a_wrong_token_with_401(fake):
    with pytest.raises(CrmError) as caught:
        client_for(fake, user_token="wrong").services()
    assert caught.value.kind == "auth" and caught.value.status == 401 and caught.value.permanent


def test_a_booked_time_disappears_and_booking_it_again_is_refused(fake):
    client = client_for(fake)
    with time_machine.travel(T0, tick=False):
        times = client.times(staff_id=11, day="2026-12-07", service_ids=[101])
        assert times[0] == {"time": "10:00", "seance_length": 5400, "sum_length": 5400, "datetime": "2026-12-07T10:00:00+05:00"}
        appointment = {"id": 0, "services": [101], "staff_id": 11, "datetime": "2026-12-07T15:00:00+05:00"}
        client.book_check(appointments=[appointment])
        [created] = client.book_record(phone="+77011234567", fullname="Айгерим", appointments=[appointment])
        assert created["record_id"] == fake.records[0].id and created["record_hash"]
        after = {t["time"] for t in client.times(staff_id=11, day="2026-12-07", service_ids=[101])}
        assert "15:00" not in after and "14:00" not in after and "16:30" in after  # 90 minutes blocked both ways
        with pytest.raises(CrmError) as caught:
            client.book_check(appointments=[appointment])
        assert caught.value.kind == "taken" and caught.value.status == 422
        with pytest.raises(CrmError):
            client.book_record(phone="+77010000000", fullname="Другая", appointments=[appointment])
    assert len(fake.records) == 1


def test_records_of_a_day_and_cancelling_one(fake):
    client = client_for(fake)
    with time_machine.travel(T0, tick=False):
        record = fake.book_directly(staff_id=12, service_id=106, start=datetime(2026, 12, 8, 6, 0, tzinfo=UTC))
        assert client.records(start_date="2026-12-07", end_date="2026-12-07") == []
        [row] = client.records(start_date="2026-12-08", end_date="2026-12-08")
        assert row["id"] == record.id and row["client"]["phone"] == "+77000000000" and row["staff"]["name"] == "Дана"
        client.record_delete(record_id=record.id)
        assert client.records(start_date="2026-12-08", end_date="2026-12-08") == []
        with pytest.raises(CrmError) as caught:
            client.record_delete(record_id=record.id)
        assert caught.value.status == 404


def test_injected_faults_say_whether_a_write_may_have_happened(fake):
    client = client_for(fake, timeout=0.3)
    appointment = {"id": 0, "services": [102], "staff_id": 12, "datetime": "2026-12-08T12:00:00+05:00"}
    with time_machine.travel(T0, tick=False):
        fake.fail(500, endpoint="book_record")
        with pytest.raises(CrmError) as caught:
            client.book_record(phone="+77011234567", fullname="A", appointments=[appointment])
        assert caught.value.kind == "server" and caught.value.unclear and fake.records == []
        fake.add_fault("lost", seconds=1, endpoint="book_record")
        with pytest.raises(CrmError) as caught:
            client.book_record(phone="+77011234567", fullname="A", appointments=[appointment])
        assert caught.value.kind == "timeout" and caught.value.unclear
        assert len(fake.records) == 1  # booked although the answer was lost
        fake.add_fault("hang", seconds=1, endpoint="book_times")
        with pytest.raises(CrmError) as caught:
            client.times(staff_id=0, day="2026-12-08")
        assert caught.value.kind == "timeout" and not caught.value.unclear  # a read never booked anything


def test_a_refused_connection_is_not_an_unclear_write():
    client = CrmClient(base_url="http://127.0.0.1:9/api/v1", company_id=1, partner_token="p", user_token="u", timeout=0.5)
    with pytest.raises(CrmError) as caught:
        client.book_record(phone="+7", fullname="", appointments=[])
    assert caught.value.kind == "connection" and not caught.value.unclear
