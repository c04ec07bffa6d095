"""Fixtures shared by every app's tests: two tenants and three personas.

- superuser: sees everything;
- operator_a: staff operator of tenant A only;
- operator_b: staff operator of tenant B only.
"""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from tenants.tests.factories import ClientFactory, MembershipFactory, UserFactory

# Fake Telegram Bot API and Celery fixtures: fake_bot_api, telegram_bot, celery_eager.
pytest_plugins = ["imperium.telegram.testing.pytest_fixtures"]


def pytest_configure(config):
    _flush_by_delete()


def _flush_by_delete() -> None:
    """After a transactional test (live processes, browsers), Django empties every table with one
    TRUNCATE of all ~75 tables: on PostgreSQL that replaces each table's files and syncs them at
    commit, 2-3 s per test. DELETE FROM each table in the same transaction leaves the same empty
    tables (the foreign keys are deferred to the commit; sequences are not reset either way) in
    tens of milliseconds. Resetting sequences or cascading keeps Django's TRUNCATE."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    truncate = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or allow_cascade:
            return truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};" for table in tables]

    DatabaseOperations.sql_flush = sql_flush


@pytest.fixture
def tenant_a(db):
    return ClientFactory(slug="alpha", name="Alpha Salon")


@pytest.fixture
def tenant_b(db):
    return ClientFactory(slug="bravo", name="Bravo Barbers")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def operator_a(tenant_a):
    return MembershipFactory(client=tenant_a, user__username="op-a", role="operator").user


@pytest.fixture
def operator_b(tenant_b):
    return MembershipFactory(client=tenant_b, user__username="op-b", role="operator").user


@pytest.fixture
def login():
    """login(user) -> a Django test client with that user's session."""

    def _login(user) -> HttpClient:
        client = HttpClient()
        client.force_login(user)
        return client

    return _login


@pytest.fixture(autouse=True)
def _private_gateway_circuits(settings):
    """The ChatFlow circuit breaker lives in the cache (Redis in CI, shared by the xdist workers,
    whose tenants have the same ids): each test gets its own keys."""
    import uuid

    settings.CHATFLOW_CIRCUIT_KEY_PREFIX = f"test-circuit:{uuid.uuid4().hex}"
    settings.TURN_QUEUE_LATENCY_CACHE_KEY = f"test-latency:{uuid.uuid4().hex}"
    settings.OUTBOX_RENOTIFY_KEY_PREFIX = f"test-renotify:{uuid.uuid4().hex}"
    settings.CRM_CACHE_KEY_PREFIX = f"test-crm:{uuid.uuid4().hex}"
    settings.TELEGRAM_CACHE_KEY_PREFIX = f"test-telegram:{uuid.uuid4().hex}"
