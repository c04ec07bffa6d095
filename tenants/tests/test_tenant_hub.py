"""The tenant page as the hub: its settings inline, links to everything of the tenant, and the
"next steps" after onboarding that tick themselves off from the database."""

from __future__ import annotations

import re

import pytest
import time_machine

from conversations.services.turns import turn_run_now
from conversations.tests.helpers import conversation_of
from imperium.core.models import AuditLog
from imperium.core.testing.html_forms import form_data
from knowledge import services as kb
from releases.tests.pipeline import T0, _pipeline_isolation, inline, message_body, queued, webhook  # noqa: F401
from tenants.models import ClientSettings

KB = '{"id": "hours", "question": "До скольки работаете?", "answer": "С 10:00 до 21:00."}\n'


@pytest.fixture
def fresh(tenant_a):
    """A tenant just onboarded: no Telegram chat, no knowledge, no traffic yet."""
    ClientSettings.objects.filter(client=tenant_a).update(telegram_chat_id=None)
    return tenant_a


def _page(web, tenant) -> str:
    response = web.get(f"/admin/tenants/client/{tenant.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def _step_done(page: str, key: str) -> bool:
    match = re.search(rf'<li id="step-{key}" class="(step-done|step-todo)"', page)
    assert match, f"step {key} not on the page"
    return match.group(1) == "step-done"


def test_the_hub_links_to_everything_of_the_tenant_and_each_link_opens(fresh, operator_a, login):
    web = login(operator_a)
    page = _page(web, fresh)
    links = re.findall(r'<a href="([^"]+)" class="tenant-hub-link">', page)
    assert len(links) == 8
    assert f"/admin/conversations/conversation/?tenant={fresh.pk}" in links
    assert f"/admin/knowledge/knowledgeversion/upload/?tenant={fresh.pk}" in links
    for url in links:
        response = web.get(url.replace("&amp;", "&"))
        assert response.status_code == 200, url
        assert "?e=1" not in response.get("Location", "")
    # The upload form starts with this tenant chosen.
    upload = web.get(f"/admin/knowledge/knowledgeversion/upload/?tenant={fresh.pk}").content.decode()
    assert form_data(upload, "kb-upload-form")["tenant"] == [str(fresh.pk)]


def test_next_steps_tick_themselves_off(fresh, operator_a, login, webhook, inline, settings):  # noqa: F811
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8123"
    web = login(operator_a)
    page = _page(web, fresh)
    assert "http://127.0.0.1:8123/webhook/alpha" in page
    assert not any(_step_done(page, key) for key in ("webhook", "telegram", "knowledge", "test_message"))

    # Connect the Telegram chat in the settings inline on the same page.
    data = form_data(page, "client_form")
    data["settings-0-telegram_chat_id"] = ["-1001234567890"]
    response = web.post(f"/admin/tenants/client/{fresh.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ClientSettings.objects.get(client=fresh).telegram_chat_id == -1001234567890
    assert AuditLog.objects.filter(action="policy.executed", payload__action="tenant.settings_change").exists()
    assert _step_done(_page(web, fresh), "telegram")

    kb.kb_version_make_first_stable(actor=kb.Actor.system("test"),
                                    version=kb.kb_import(actor=kb.Actor.system("test"), tenant=fresh, file_name="kb.jsonl", content=KB))
    page = _page(web, fresh)
    assert _step_done(page, "knowledge") and not _step_done(page, "webhook")

    with time_machine.travel(T0, tick=False) as traveller:
        assert webhook.post(fresh, payload=message_body(text="До скольки работаете?")).status_code == 200
        page = _page(web, fresh)
        assert _step_done(page, "webhook") and not _step_done(page, "test_message")
        traveller.shift(15)
        with inline():
            turn_run_now(conversation_of(fresh).pk)
    page = _page(web, fresh)
    assert 'id="tenant-setup-complete"' in page and 'id="step-' not in page


def test_an_unchanged_tenant_page_posts_without_changing_settings(fresh, superuser, login):
    web = login(superuser)
    before = AuditLog.objects.count()
    response = web.post(f"/admin/tenants/client/{fresh.pk}/change/", form_data(_page(web, fresh), "client_form"))
    assert response.status_code == 302
    assert AuditLog.objects.filter(action__startswith="policy").count() == 0
    assert AuditLog.objects.count() - before <= 1  # at most the tenant's own update entry


def test_another_tenants_operator_sees_neither_page_nor_settings(fresh, operator_b, login):
    response = login(operator_b).get(f"/admin/tenants/client/{fresh.pk}/change/")
    assert response.status_code == 302  # "does not exist" for them
