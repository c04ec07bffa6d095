"""Connecting a salon's CRM in a real browser (headless Chromium through Selenium) against a live
server and the fake Altegio: the operator fills the Russian connection form, a wrong token is
refused on the form with nothing saved, the right one connects and seeds the service map, which
the operator then sees with Russian column names. Screenshots land in var/screenshots/crm-connect/."""

from __future__ import annotations

import pytest

from crm.models import CrmConnection, CrmService
from imperium.core.testing.browser import Browser, missing_browser
from tenants.tests.factories import ClientFactory, MembershipFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(live_server):
    reason = missing_browser()
    if reason:
        pytest.fail(reason)
    opened = Browser(live_server.url, scenario="crm-connect")
    yield opened
    opened.close()


def test_an_operator_connects_the_salons_crm_in_russian(browser, fake_crm):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select

    salon = ClientFactory(slug="lotus", name="Салон «Лотос»")
    MembershipFactory(client=salon, role="operator", user__username="dina")
    page = browser.driver
    browser.get("/admin/login/?next=/admin/")
    browser.wait(ec.presence_of_element_located((By.ID, "id_username")))
    page.find_element(By.ID, "id_username").send_keys("dina")
    page.find_element(By.ID, "id_password").send_keys("pw")
    page.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.wait(lambda driver: "/admin/login/" not in driver.current_url)  # logged in (the login page has #content too)
    browser.wait(ec.presence_of_element_located((By.ID, "content")))

    browser.get("/admin/crm/crmconnection/add/")
    form = browser.wait(ec.presence_of_element_located((By.ID, "crmconnection_form")))
    for label in ("Система CRM", "ID компании в CRM", "Адрес API", "Токен партнёра", "Токен пользователя", "Напоминание за день",
                  "Тихие часы с"):
        assert label in form.text, label
    for english in ("Company id", "Base url", "Partner token", "Quiet hours start"):
        assert english not in form.text, english
    tenant = Select(page.find_element(By.ID, "id_tenant"))
    tenant.select_by_value(str(salon.pk))
    page.find_element(By.ID, "id_company_id").send_keys(str(fake_crm.company_id))
    page.find_element(By.ID, "id_base_url").send_keys(f"{fake_crm.url}/api/v1")
    page.find_element(By.ID, "id_partner_token").send_keys(fake_crm.partner_token)
    page.find_element(By.ID, "id_user_token").send_keys("wrong")
    browser.shot("connection form filled, wrong user token")
    page.find_element(By.NAME, "_save").click()
    errors = browser.wait(ec.presence_of_element_located((By.CSS_SELECTOR, ".errornote, ul.errorlist")))
    browser.shot("refused on the form")
    assert errors.is_displayed()
    assert "CRM отклонила эти ключи доступа (401)" in page.find_element(By.ID, "content").text
    assert not CrmConnection.objects.exists()

    page.find_element(By.ID, "id_partner_token").send_keys(fake_crm.partner_token)
    page.find_element(By.ID, "id_user_token").send_keys(fake_crm.user_token)
    page.find_element(By.NAME, "_save").click()
    message = browser.wait(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist")))
    browser.shot("connected")
    seeded = CrmService.objects.filter(tenant=salon).count()
    assert seeded > 0 and CrmConnection.objects.get(tenant=salon).status == "active"
    assert f"Подключено: в CRM найдено услуг — {seeded}." in message.text

    browser.get("/admin/crm/crmservice/")
    table = browser.wait(ec.presence_of_element_located((By.ID, "result_list")))
    browser.shot("service map")
    header = table.find_element(By.TAG_NAME, "thead").text.lower()  # the admin's CSS capitalises headers
    assert "название услуги" in header and "как называют клиенты" in header and "повторить через, дней" in header
    assert "keywords" not in header
