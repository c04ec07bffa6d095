"""The sentinel's `crm:<tenant>` check: latency and error rate of the tenant's CRM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.clients.altegio import CallStat
from crm.models import CrmConnection
from crm.services import crm_call_record, crm_client_for, crm_connection_mark_broken
from crm.tests.conftest import connected
from incidents.models import Alert, Incident
from incidents.sentinel import sentinel_run

pytestmark = pytest.mark.django_db


def crm_results(report):
    return {o.target: o for o in report.observations if o.check == "crm"}


def test_a_quiet_healthy_crm_is_probed_and_passes(fake_crm, django_capture_on_commit_callbacks):
    tenant = connected(fake_crm)
    with django_capture_on_commit_callbacks(execute=True):
        report = sentinel_run(names=["crm"])
    result = crm_results(report)[tenant.slug]
    assert result.ok and not result.skipped and result.latency_ms is not None
    assert fake_crm.calls("book_dates")


def test_a_failing_crm_opens_an_incident_with_one_alert(fake_crm, django_capture_on_commit_callbacks):
    tenant = connected(fake_crm)
    connection = CrmConnection.objects.get(tenant=tenant)
    for _ in range(4):
        crm_call_record(connection=connection, stat=CallStat("book_times", False, 503, 40.0, "book_times: CRM error 503"))
    crm_call_record(connection=connection, stat=CallStat("book_times", True, 200, 35.0))
    with django_capture_on_commit_callbacks(execute=True):
        first = sentinel_run(names=["crm"])
        sentinel_run(names=["crm"])
    result = crm_results(first)[tenant.slug]
    assert not result.ok and "4 of 5 CRM calls failed" in result.detail
    incident = Incident.objects.get()
    assert incident.kind == "crm" and incident.fingerprint == f"crm:{tenant.slug}"


def test_calls_outside_the_window_do_not_count(fake_crm, django_capture_on_commit_callbacks, settings):
    tenant = connected(fake_crm)
    connection = CrmConnection.objects.get(tenant=tenant)
    for _ in range(5):
        crm_call_record(connection=connection, stat=CallStat("book_times", False, 503, 40.0, "503"))
    from crm.models import CrmCall

    CrmCall.objects.update(created_at=timezone.now() - timedelta(minutes=settings.SENTINEL_CRM_WINDOW_MINUTES + 1))
    with django_capture_on_commit_callbacks(execute=True):
        report = sentinel_run(names=["crm"])
    assert crm_results(report)[tenant.slug].ok


def test_a_401_marks_the_connection_broken_once_and_the_check_fails(fake_crm, django_capture_on_commit_callbacks):
    tenant = connected(fake_crm)
    connection = CrmConnection.objects.get(tenant=tenant)
    fake_crm.user_token = "revoked"
    client = crm_client_for(connection)
    for _ in range(2):
        try:
            client.services()
        except Exception as exc:  # the CrmError is what we expect
            assert getattr(exc, "kind", "") == "auth"
    connection.refresh_from_db()
    assert connection.status == "broken" and "refused the credentials" in connection.last_error
    assert Alert.objects.filter(dedup_key__endswith=f"crm-broken:{tenant.slug}").count() == 1
    assert crm_connection_mark_broken(connection=connection, error="again") is False
    with django_capture_on_commit_callbacks(execute=True):
        report = sentinel_run(names=["crm"])
    result = crm_results(report)[tenant.slug]
    assert not result.ok and "connection broken" in result.detail


def test_a_disconnected_crm_is_not_watched(fake_crm, django_capture_on_commit_callbacks):
    tenant = connected(fake_crm)
    CrmConnection.objects.filter(tenant=tenant).update(status="disabled")
    with django_capture_on_commit_callbacks(execute=True):
        report = sentinel_run(names=["crm"])
    assert tenant.slug not in crm_results(report)
