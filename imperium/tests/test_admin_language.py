"""Every label an operator reads in admin goes through the translation catalog and has a Russian
entry: field names, help texts, choice labels and model names of every model registered in admin.
A field added with no verbose_name shows its English attribute name («Company id») on a Russian page."""

from __future__ import annotations

import json
import re

from django.contrib import admin
from django.utils import translation
from django.utils.functional import Promise

OURS = {"tenants", "conversations", "knowledge", "incidents", "releases", "crm", "imperium", "telegram"}
# Labels that read the same in Russian (brands, formats, a command, a role's title).
PROPER_NAMES = {"Altegio", "YCLIENTS", "JSONL", "Markdown", "Telegram", "API", "WhatsApp", "ChatFlow", "OK", "—", "CEO",
                "manage.py sentinel"}
CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
CODES = re.compile(r"[a-z_]+(, [a-z_]+)*(, (\.\.\.|…))?")  # a help text listing operation codes


def _untranslated(text) -> bool:
    if not text or str(text) in PROPER_NAMES:
        return False
    if not isinstance(text, Promise):
        return True  # a plain string never reaches the catalog
    return not CYRILLIC.search(str(text))


def test_every_admin_label_is_translated_to_russian():
    problems = []
    with translation.override("ru"):
        for model in admin.site._registry:
            meta = model._meta
            if meta.app_label not in OURS:
                continue
            for name in ("verbose_name", "verbose_name_plural"):
                if not CYRILLIC.search(str(getattr(meta, name))):
                    problems.append(f"{meta.label}: {name}")
            for field in meta.get_fields():
                if field.auto_created or not hasattr(field, "verbose_name"):
                    continue
                if field.name not in {"id"} and _untranslated(field.verbose_name):
                    problems.append(f"{meta.label}.{field.name}: label {field.verbose_name!r}")
                if _untranslated(field.help_text) and not CODES.fullmatch(str(field.help_text)):
                    problems.append(f"{meta.label}.{field.name}: help text {field.help_text!r}")
                for value, label in getattr(field, "choices", None) or []:
                    if _untranslated(label) and label != value:
                        problems.append(f"{meta.label}.{field.name}: choice {value}={label!r}")
    assert not problems, "untranslated admin labels:\n" + "\n".join(problems)


def test_every_form_field_an_admin_declares_is_labelled_in_russian():
    # A form field declared on an admin form (not taken from the model) gets its label from its attribute name
    # («Alt questions») unless given one; its help text must go through the catalog too. Inline forms included.
    problems = []
    with translation.override("ru"):
        for model, model_admin in admin.site._registry.items():
            if model._meta.app_label not in OURS:
                continue
            for owner in [model_admin, *(inline(model, admin.site) for inline in model_admin.inlines)]:
                for name, field in getattr(owner.form, "declared_fields", {}).items():
                    if field.label is None or _untranslated(field.label):
                        problems.append(f"{type(owner).__name__}.{name}: label {field.label!r}")
                    if field.help_text and _untranslated(field.help_text):
                        problems.append(f"{type(owner).__name__}.{name}: help text {str(field.help_text)!r}")
    assert not problems, problems


def test_admin_titles_buttons_and_messages_read_as_russian_for_a_feminine_model(login, superuser, tenant_a):
    # Django's own Russian puts the model name after a verb in the nominative («Изменить версия базы знаний»,
    # «Добавить еще один Статья базы знаний», «… был успешно добавлен»); the project catalog overrides those.
    from django.urls import reverse

    from knowledge.models import KnowledgeVersion

    version = KnowledgeVersion.objects.create(tenant=tenant_a, number=1)
    client = login(superuser)
    response = client.get(reverse("admin:knowledge_knowledgeversion_change", args=[version.pk]))
    change = response.content.decode()
    assert "Изменить: версия базы знаний" in change and "Изменить версия" not in change
    with translation.override("ru"):
        inline = json.loads(response.context["inline_admin_formsets"][0].inline_formset_data())
    assert inline["options"]["addText"] == "Добавить ещё: Статья базы знаний"  # the items inline's "add another" link
    listing = client.get(reverse("admin:knowledge_knowledgeversion_changelist")).content.decode()
    assert "Выберите для изменения: версия базы знаний" in listing
    with translation.override("ru"):
        from django.utils.translation import gettext

        message = gettext("The {name} “{obj}” was changed successfully.").format(name="версия базы знаний", obj="KB v1")
    assert message == "Запись «KB v1» (версия базы знаний) изменена."
