"""Fixtures for the releases tests: alerts recorder, CEO actor, release helpers."""

from __future__ import annotations

from typing import Any

import pytest

from imperium.core.actors import Actor
from releases import services


@pytest.fixture
def alerts(monkeypatch) -> list[dict[str, Any]]:
    """Alerts raised to the CEO (the `alert_raise` seam as the releases app calls it)."""
    raised: list[dict[str, Any]] = []
    monkeypatch.setattr(services, "alert_raise", lambda **kwargs: raised.append(kwargs))
    return raised


@pytest.fixture
def ceo(superuser) -> Actor:
    return Actor.from_user(superuser)


@pytest.fixture
def system() -> Actor:
    return Actor.system("test")


@pytest.fixture
def make_release(system):
    """make_release("1.0.0", answering={...}) -> a draft Release."""

    def _make(version: str, image_tag: str = "", **overrides: Any):
        return services.release_create_draft(actor=system, version=version, image_tag=image_tag, overrides=overrides)

    return _make


@pytest.fixture
def make_stable(make_release, system):
    """make_stable("1.0.0", ...) -> a Release that went draft → canary → stable."""

    def _make(version: str, **overrides: Any):
        make_release(version, **overrides)
        services.release_start_canary(actor=system, version=version)
        return services.release_promote_stable(actor=system, version=version)

    return _make


@pytest.fixture
def incident_of():
    """Open an incident (optionally a tenant's) the way the sentinel does; returns it."""
    from incidents.services import incident_open

    def _open(tenant=None, kind: str = "qdrant.points"):
        incident, _ = incident_open(fingerprint=f"{kind}:{tenant.slug if tenant else 'system'}", kind=kind,
                                    title=f"{kind} failing", tenant=tenant)
        return incident

    return _open
