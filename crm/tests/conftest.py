from __future__ import annotations

import pytest
import time_machine

from crm.services import crm_connect
from crm.testing.fake_crm import FakeCrm
from imperium.core.actors import Actor
from tenants.tests.factories import ClientFactory


@pytest.fixture
def fake_crm(settings):
    settings.CRM_TIMEOUT = 1.0
    with FakeCrm() as fake:
        yield fake


def connected(fake, tenant=None, at=None):
    tenant = tenant or ClientFactory()
    with time_machine.travel(at, tick=False) if at else _nothing():
        crm_connect(actor=Actor.system("test"), tenant=tenant, kind="altegio", company_id=fake.company_id,
                    partner_token=fake.partner_token, user_token=fake.user_token, base_url=f"{fake.url}/api/v1")
    return tenant


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
