"""Fixing a knowledge item and getting it promoted, in a real browser (headless Chromium through
Selenium) against a live server on the test database: an operator of one salon uploads a KB file,
edits an item of the new draft, saves, sees the change in the diff, tries a question against the
draft, and asks for promotion; the requester cannot approve it; the CEO approves it, once. A
screenshot of every step lands in var/screenshots/knowledge-promotion/ (CI keeps the folder)."""

from __future__ import annotations

import pytest

from imperium.core.models import AuditLog, VerificationRequest
from imperium.core.testing.browser import Browser, missing_browser
from knowledge.models import KnowledgeVersion
from tenants.tests.factories import ClientFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

KB = (
    '{"id": "hours", "question": "До скольки вы работаете?", "answer": "Мы работаем с 10:00 до 20:00."}\n'
    '{"id": "parking", "question": "Есть ли парковка?", "answer": "Да, бесплатная парковка во дворе."}\n'
)
NEW_ANSWER = "Мы работаем с 09:00 до 22:00 без выходных."


@pytest.fixture
def browser(live_server):
    reason = missing_browser()
    if reason:
        pytest.fail(reason)
    opened = Browser(live_server.url, scenario="knowledge-promotion")
    yield opened
    opened.close()


def _login(browser, username: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    browser.driver.delete_all_cookies()
    browser.get("/admin/login/?next=/admin/")
    browser.wait(ec.presence_of_element_located((By.ID, "id_username")))
    browser.driver.find_element(By.ID, "id_username").send_keys(username)
    browser.driver.find_element(By.ID, "id_password").send_keys("pw")
    browser.driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The login page has #content too: wait until the POST has redirected away from it (the session cookie is set),
    # or the next page may be requested before it and land on the login form.
    browser.wait(lambda driver: "/admin/login/" not in driver.current_url)
    browser.wait(ec.presence_of_element_located((By.ID, "content")))


def test_an_operator_fixes_an_item_and_the_ceo_promotes_it(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    from imperium.core.actors import Actor
    from knowledge import services as kb

    salon = ClientFactory(slug="lotus", name="Салон «Лотос»")
    served = kb.kb_import(actor=Actor.system("test"), tenant=salon, file_name="lotus.jsonl", content=KB)
    kb.kb_version_make_first_stable(actor=Actor.system("test"), version=served)
    MembershipFactory(client=salon, role="operator", user__username="dina")
    UserFactory(username="ceo", is_superuser=True)
    kb_file = tmp_path / "lotus.jsonl"
    kb_file.write_text(KB, encoding="utf-8")
    page = browser.driver

    # Upload: from the tenant page's hub to the upload form, the tenant already chosen.
    _login(browser, "dina")
    browser.get(f"/admin/tenants/client/{salon.pk}/change/")
    browser.wait(ec.presence_of_element_located((By.ID, "tenant-hub")))
    browser.shot("tenant page with next steps")
    page.find_element(By.CSS_SELECTOR, f'a.tenant-hub-link[href$="upload/?tenant={salon.pk}"]').click()
    browser.wait(ec.presence_of_element_located((By.ID, "kb-upload-form")))
    assert Select(page.find_element(By.ID, "id_tenant")).first_selected_option.get_attribute("value") == str(salon.pk)
    page.find_element(By.ID, "id_file").send_keys(str(kb_file))
    browser.shot("upload form")
    page.find_element(By.ID, "kb-upload-submit").click()
    link = browser.wait(ec.presence_of_element_located((By.ID, "kb-import-version-link")))
    assert page.find_element(By.ID, "kb-import-same-content")  # the same items as the version served now
    browser.shot("import done, identical to v1")
    link.click()

    # Edit an item of the draft and save.
    browser.wait(ec.presence_of_element_located((By.ID, "knowledgeversion_form")))
    draft = KnowledgeVersion.objects.get(tenant=salon, number=2)
    answers = [e for e in page.find_elements(By.CSS_SELECTOR, "textarea[name$='-answer']")
               if "10:00" in e.get_attribute("value")]
    assert len(answers) == 1
    answers[0].clear()
    answers[0].send_keys(NEW_ANSWER)
    browser.shot("draft item edited")
    page.find_element(By.NAME, "_continue").click()
    browser.wait(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    browser.shot("draft saved")
    assert draft.items.get(external_id="hours").answer == NEW_ANSWER

    # The diff against the served version shows the change.
    page.find_element(By.ID, "kb-diff-link").click()
    changed = browser.wait(ec.presence_of_element_located((By.ID, "kb-diff-changed")))
    browser.shot("diff v1 to v2")
    assert "hours" in changed.text and NEW_ANSWER in changed.text
    assert "parking" not in changed.text

    # Try a question against the draft.
    browser.get(f"/admin/knowledge/knowledgeversion/{draft.pk}/change/")
    page.find_element(By.NAME, "try").send_keys("До скольки вы работаете?")
    page.find_element(By.ID, "kb-try-submit").click()
    reply = browser.wait(ec.presence_of_element_located((By.ID, "kb-try-reply")))
    browser.shot("try a question")
    assert "09:00 до 22:00" in reply.text

    # Ask for promotion from the versions list.
    browser.get(f"/admin/knowledge/knowledgeversion/?tenant={salon.pk}")
    page.find_element(By.CSS_SELECTOR, f'input[name="_selected_action"][value="{draft.pk}"]').click()
    Select(page.find_element(By.NAME, "action")).select_by_value("request_promotion")
    page.find_element(By.NAME, "index").click()
    browser.wait(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    browser.shot("promotion requested")
    request = VerificationRequest.objects.get(action="kb.promote")
    assert request.status == "pending" and request.requested_by_label == "dina"

    # The requester cannot approve their own request.
    browser.get(f"/admin/imperium/verificationrequest/{request.pk}/change/")
    panel = browser.wait(ec.presence_of_element_located((By.ID, "verification-decision")))
    browser.shot("requester sees no approve button")
    assert not panel.find_elements(By.NAME, "approve")

    # The CEO approves it; the version is stable, once.
    _login(browser, "ceo")
    browser.get(f"/admin/imperium/verificationrequest/{request.pk}/change/")
    panel = browser.wait(ec.presence_of_element_located((By.ID, "verification-decision")))
    browser.shot("ceo sees the request")
    panel.find_element(By.NAME, "approve").click()
    browser.wait(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.success")))
    browser.shot("approved")
    draft.refresh_from_db()
    request.refresh_from_db()
    served.refresh_from_db()
    assert draft.status == "stable" and served.status == "archived"
    assert request.status == "executed" and request.decided_by_label == "ceo"
    assert not page.find_elements(By.NAME, "approve")
    assert AuditLog.objects.filter(action="kb.promoted").count() == 1
