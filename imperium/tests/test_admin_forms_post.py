"""Every admin form posts: for each registered ModelAdmin, open the list, the change page of a real
object and the add page (where adding is allowed), as a superuser and as an operator of one tenant,
and submit each form back unchanged as a browser would. No page and no submission may answer 5xx.

The rows come from the real paths where there is one (onboarding factories, a KB import, customer
messages through the signed webhook and the turn task, an escalation, a verification request, a
release and a channel flip, an incident); rows of infrastructure models nothing here produces get
their required fields filled generically (`_fill_row`). Every registered model must end up with a
row, so no admin is skipped silently.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.core.policy import policy_execute
from imperium.core.testing.html_forms import form_data
from incidents.errors import error_log_record
from knowledge import services as kb
from releases.tests.pipeline import (  # noqa: F401
    _fresh_knowledge_caches,
    _pipeline_isolation,
    ask_turn,
    import_kb,
    inline,
    message_body,
    queued,
    webhook,
)
from tenants.tests.factories import ClientFactory

ACTOR = Actor.system("test")


def _pick(model: type[models.Model], tenant: Any) -> models.Model:
    """An existing row to point a foreign key at (the tenant's own where the model is tenant-owned)."""
    queryset = model._default_manager.all()
    if getattr(model, "tenant_scope_path", None):
        owned = queryset.for_tenant(tenant) if hasattr(queryset, "for_tenant") else queryset
        if owned.exists():
            return owned.order_by("pk").first()
    row = queryset.order_by("pk").first()
    return row if row is not None else _fill_row(model, tenant)


def _value(field: models.Field, tenant: Any) -> Any:
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.ForeignKey | models.OneToOneField):
        if field.related_model._meta.label == "tenants.Client":
            return tenant
        if isinstance(field, models.OneToOneField):
            taken = field.model._default_manager.values_list(field.attname, flat=True)
            free = field.related_model._default_manager.exclude(pk__in=taken).order_by("pk").first()
            return free if free is not None else _fill_row(field.related_model, tenant)
        return _pick(field.related_model, tenant)
    if isinstance(field, models.DateTimeField):
        return timezone.now()
    if isinstance(field, models.DateField):
        return dt.date.today()
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
        return 1
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.URLField):
        return "https://example.com/x"
    if isinstance(field, models.CharField | models.TextField):
        text = f"x-{uuid.uuid4().hex[:8]}"
        return text[: field.max_length] if field.max_length else text
    raise TypeError(f"no generic value for {field.model.__name__}.{field.name} ({type(field).__name__})")


def _fill_row(model: type[models.Model], tenant: Any) -> models.Model:
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key or field.has_default() or field.null or getattr(field, "auto_now", False) \
                or getattr(field, "auto_now_add", False):
            continue
        if field.blank and isinstance(field, models.CharField | models.TextField):
            continue
        values[field.name] = _value(field, tenant)
    return model._default_manager.create(**values)


@pytest.fixture
def fake_crm():
    from crm.testing.fake_crm import FakeCrm

    with FakeCrm() as crm:
        yield crm


@pytest.fixture
def world(tenant_a, tenant_b, superuser, operator_a, ask_turn, webhook, settings, fake_crm):  # noqa: F811
    """Rows in every registered model, made the way the product makes them where it can."""
    from crm.services import crm_connect

    settings.VERIFICATION_ALLOW_SELF_APPROVAL = False
    # The CRM form checks the stored credentials on every save: both tenants are connected to a fake CRM.
    for tenant in (tenant_a, tenant_b):
        crm_connect(actor=ACTOR, tenant=tenant, kind="altegio", company_id=fake_crm.company_id, partner_token=fake_crm.partner_token,
                    user_token=fake_crm.user_token, base_url=f"{fake_crm.url}/api/v1")
    stable = import_kb(tenant_a)
    import_kb(tenant_b)
    draft = kb.kb_version_clone(actor=ACTOR, version=stable)
    kb.kb_eval_run_record(version=draft, summary={"cases": 1, "headline": "1/1", "passed": True}, passed=True)
    job = kb.kb_import_job_create(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl",
                                  content='{"id": "x", "question": "Вопрос?", "answer": "Ответ."}\n')
    kb.kb_import_job_run(job_id=job.pk)
    ask_turn(tenant_a, "Сколько стоит маникюр?")
    ask_turn(tenant_a, "Хочу пожаловаться и вернуть деньги!", phone="+77019998877")
    ask_turn(tenant_b, "Сколько стоит маникюр?")
    webhook.post(tenant_a, raw=b'{"message_id": 1')  # a malformed body: kept as a dead letter
    error_log_record(where="test.admin_forms", message="boom", tenant=tenant_a)
    policy_execute("kb.promote", Actor.from_user(operator_a), {"tenant": tenant_a.slug, "version": draft.number}, tenant=tenant_a)
    Group.objects.create(name="operators")
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    PeriodicTask.objects.create(name="demo", task="imperium.tasks.demo",
                                interval=IntervalSchedule.objects.create(every=10, period="seconds"))
    ClientFactory(slug="charlie", status="onboarding")
    for model in admin.site._registry:
        if not model._default_manager.exists():
            _fill_row(model, tenant_a)
    return {"tenant_a": tenant_a}


def _admin_urls(model: type[models.Model]) -> tuple[str, str, str]:
    info = (model._meta.app_label, model._meta.model_name)
    return (reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info)),
            "admin:{}_{}_change".format(*info))


def _post_back(web, url: str, html: str, model: type[models.Model], failures: list[str], posted: list[tuple[str, int]],
               what: str) -> None:
    form_id = f"{model._meta.model_name}_form"
    if f'id="{form_id}"' not in html:
        return  # a page without the admin form (e.g. a custom read-only view)
    response = web.post(url, form_data(html, form_id))
    posted.append((what, response.status_code))
    if response.status_code >= 500:
        failures.append(f"{what}: POST {url} answered {response.status_code}")
    elif response.status_code == 200 and 'class="errornote"' in response.content.decode() and what.startswith("change"):
        failures.append(f"{what}: POST {url} unchanged was refused with form errors")


@pytest.mark.parametrize("persona", ["superuser", "operator_a"])
def test_every_admin_page_and_unchanged_form_posts_without_a_server_error(world, persona, request, login):
    user = request.getfixturevalue(persona)
    web = login(user)
    web.raise_request_exception = False  # a crash is a 500 to report, not an exception that stops the loop
    failures: list[str] = []
    posted: list[tuple[str, int]] = []
    seen_change = 0
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        changelist, add, change_name = _admin_urls(model)
        response = web.get(changelist)
        if response.status_code >= 500:
            failures.append(f"{label} list ({persona}): {response.status_code}")
            continue
        if response.status_code != 200:
            continue  # not for this persona (redirect to login / 403)
        fake = type("R", (), {"user": user, "GET": {}, "method": "GET"})()
        rows = model_admin.get_queryset(fake)
        obj = rows.order_by("pk").first()
        assert obj is not None or persona != "superuser", f"{label}: no row to open (the world fixture must make one)"
        if obj is not None:
            url = reverse(change_name, args=[obj.pk])
            page = web.get(url)
            if page.status_code >= 500:
                failures.append(f"{label} change page ({persona}): {page.status_code}")
            elif page.status_code == 200:
                seen_change += 1
                _post_back(web, url, page.content.decode(), model, failures, posted, f"change {label} ({persona})")
        if model_admin.has_add_permission(fake):
            page = web.get(add)
            if page.status_code >= 500:
                failures.append(f"{label} add page ({persona}): {page.status_code}")
            elif page.status_code == 200:
                _post_back(web, add, page.content.decode(), model, failures, posted, f"add {label} ({persona})")
    assert not failures, "\n".join(failures)
    saved = [what for what, status in posted if status == 302 and what.startswith("change")]
    assert len(saved) >= (10 if persona == "superuser" else 5), posted  # editable forms really were saved back
    assert seen_change >= (len(admin.site._registry) if persona == "superuser" else 15)
