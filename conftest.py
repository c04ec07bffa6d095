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
    _migrate_once_per_run()


def _migrate_once_per_run() -> None:
    """Under pytest-xdist every worker creates its own test database. Applying the ~100 migrations
    costs each of them 20+ s of CPU (most of it Django re-rendering model states); on PostgreSQL the
    first worker applies them and copies the result to a template database, and the others create
    theirs from that template (what Django's own parallel test runner does with clone_test_db). The
    migrate command then still runs in every worker and finds nothing to apply. With --reuse-db, on
    SQLite or without xdist, nothing changes."""
    import fcntl
    import os
    import tempfile
    from pathlib import Path

    from django.db.backends.postgresql.creation import DatabaseCreation

    create = DatabaseCreation.create_test_db

    def create_test_db(self, verbosity=1, autoclobber=False, serialize=True, keepdb=False):
        run, workers = os.environ.get("PYTEST_XDIST_TESTRUNUID"), int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
        if not run or workers < 2 or keepdb or self.connection.settings_dict["TEST"].get("TEMPLATE"):
            return create(self, verbosity, autoclobber, serialize, keepdb)
        state = Path(tempfile.gettempdir()) / f"imperium-test-db-{run}-{self.connection.alias}"
        with state.open("a+") as shared:
            fcntl.flock(shared, fcntl.LOCK_EX)  # released when the file closes, also on an error
            shared.seek(0)
            template, _, cloned = shared.read().partition(" ")
            if not template:  # the first worker: migrate, then keep a copy as the template
                name = create(self, verbosity, autoclobber, serialize, keepdb)
                template = f"{name}_template"
                self.connection.close()
                with self._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {self._quote_name(template)}")
                    cursor.execute(f"CREATE DATABASE {self._quote_name(template)} WITH TEMPLATE {self._quote_name(name)}")
                self.connection.ensure_connection()
                shared.seek(0)
                shared.truncate()
                shared.write(f"{template} 0")
                return name
            self.connection.settings_dict["TEST"]["TEMPLATE"] = template
            try:
                name = create(self, verbosity, autoclobber, serialize, keepdb)
            finally:
                del self.connection.settings_dict["TEST"]["TEMPLATE"]
            cloned = int(cloned or 0) + 1
            shared.seek(0)
            shared.truncate()
            shared.write(f"{template} {cloned}")
            if cloned >= workers - 1:  # the last worker to need it
                with self._nodb_cursor() as cursor:
                    cursor.execute(f"DROP DATABASE IF EXISTS {self._quote_name(template)}")
                state.unlink(missing_ok=True)
            return name

    DatabaseCreation.create_test_db = create_test_db


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
