from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog
from knowledge import services
from knowledge.choices import VersionStatus
from knowledge.models import KnowledgeItem, KnowledgeVersion
from knowledge.parsing import KBParseError, parse_markdown
from knowledge.selectors import kb_version_default, kb_version_diff, kb_version_serving

ACTOR = Actor.system("test")
ITEMS = "\n".join(
    json.dumps(row, ensure_ascii=False)
    for row in [
        {"id": "price-cut", "question": "Сколько стоит стрижка?", "answer": "Мужская стрижка — 6 000 ₸.", "tags": ["prices"]},
        {"id": "hours", "question": "Когда вы работаете?", "answer": "Ежедневно с 10:00 до 21:00.",
         "alt_questions": ["До скольки открыто?"]},
    ]
)


def _import(tenant, content=ITEMS, name="kb.jsonl"):
    return services.kb_import(actor=ACTOR, tenant=tenant, file_name=name, content=content)


def test_it_imports_jsonl_as_a_numbered_indexed_draft(tenant_a):
    first = _import(tenant_a)
    second = _import(tenant_a)
    assert (first.number, second.number) == (1, 2)
    assert first.status == VersionStatus.DRAFT and first.item_count == 2 and len(first.content_hash) == 64
    hours = KnowledgeItem.objects.get(version=first, external_id="hours")
    assert hours.alt_questions == ["До скольки открыто?"]
    assert first.sync_logs.get().status == "ok"
    assert AuditLog.objects.filter(action="kb.version_created", tenant_id=tenant_a.pk).count() == 2


def test_it_refuses_a_malformed_line_naming_it_and_imports_nothing(tenant_a):
    bad = ITEMS + '\n{"id": "broken", "question": "Q?"'
    with pytest.raises(KBParseError, match="line 3"):
        _import(tenant_a, bad)
    missing = ITEMS + '\n{"id": "x", "question": "Q?", "answer": ""}'
    with pytest.raises(KBParseError, match="line 3: missing or empty answer"):
        _import(tenant_a, missing)
    duplicate = ITEMS + "\n" + ITEMS.splitlines()[0]
    with pytest.raises(KBParseError, match="duplicate id 'price-cut'"):
        _import(tenant_a, duplicate)
    assert not KnowledgeVersion.objects.exists() and not KnowledgeItem.objects.exists()


def test_it_parses_markdown_headings_and_chunks_long_sections():
    long_answer = " ".join(f"Предложение номер {i} про услуги салона." for i in range(120))
    items = parse_markdown(f"# Салон\n\n## Сколько стоит стрижка?\nТеги: prices\nЕщё: цена стрижки | стрижка почём\n"
                           f"Стрижка — 6 000 ₸.\n\n## Правила салона\n{long_answer}\n")
    assert items[0].question == "Сколько стоит стрижка?" and items[0].answer == "Стрижка — 6 000 ₸."
    assert items[0].tags == ["prices"] and items[0].alt_questions == ["цена стрижки", "стрижка почём"]
    chunks = [i for i in items if i.question == "Правила салона"]
    assert len(chunks) > 1 and all(len(c.answer) <= 1600 for c in chunks)
    assert len({c.external_id for c in chunks}) == len(chunks)
    with pytest.raises(KBParseError, match="no '## question' headings"):
        parse_markdown("just text")


def test_kb_import_command_prints_the_new_version_number(tenant_a, tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_text(ITEMS, encoding="utf-8")
    out = StringIO()
    call_command("kb_import", "--tenant", tenant_a.slug, str(path), stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == "1"
    path.write_text(ITEMS + "\nnot json", encoding="utf-8")
    with pytest.raises(CommandError, match="line 3"):
        call_command("kb_import", "--tenant", tenant_a.slug, str(path), stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="Unknown tenant"):
        call_command("kb_import", "--tenant", "nope", str(path), stdout=StringIO())


def test_promotion_archives_the_previous_stable_version_and_is_audited(tenant_a):
    first = services.kb_version_promote(actor=ACTOR, version=_import(tenant_a))
    second = services.kb_version_promote(actor=ACTOR, version=_import(tenant_a))
    first.refresh_from_db()
    assert first.status == VersionStatus.ARCHIVED and second.status == VersionStatus.STABLE
    assert second.history.filter(status=VersionStatus.STABLE).exists()
    with pytest.raises(ApplicationError, match="only a draft"):
        services.kb_version_promote(actor=ACTOR, version=second)
    assert AuditLog.objects.filter(action="kb.promoted").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        KnowledgeVersion.objects.filter(pk=first.pk).update(status=VersionStatus.STABLE)


def test_promotion_is_refused_below_eval_thresholds_when_the_tenant_has_cases(tenant_a):
    services.kb_eval_set_save(actor=ACTOR, tenant=tenant_a, cases=[{"id": "c1"}])
    draft = _import(tenant_a)
    services.kb_eval_run_record(version=draft, summary={"cases": 1, "headline": "ok"}, passed=True)
    with pytest.raises(ApplicationError, match="no verdict of the promotion gate"):  # a stored run is not a verdict
        services.kb_version_promote(actor=ACTOR, version=draft)
    with pytest.raises(ApplicationError, match="below the release thresholds"):
        services.kb_version_promote(actor=ACTOR, version=draft,
                                    check=lambda v: (False, {"failed_thresholds": ["shame rate 2.0% > 0%"]}))
    assert KnowledgeVersion.objects.get(pk=draft.pk).status == VersionStatus.DRAFT
    assert services.kb_version_promote(actor=ACTOR, version=draft, check=lambda v: (True, {})).status == VersionStatus.STABLE


def test_first_stable_only_for_a_tenant_that_was_never_live(tenant_a):
    version = services.kb_version_make_first_stable(actor=ACTOR, version=_import(tenant_a))
    assert version.status == VersionStatus.STABLE
    with pytest.raises(ApplicationError, match="served a KB before"):
        services.kb_version_make_first_stable(actor=ACTOR, version=_import(tenant_a))
    assert AuditLog.objects.filter(action="kb.first_stable", tenant_id=tenant_a.pk).count() == 1


def test_drafts_are_editable_and_stable_versions_are_not(tenant_a):
    draft = _import(tenant_a)
    old_hash = draft.content_hash
    item = KnowledgeItem.objects.get(version=draft, external_id="price-cut")
    services.kb_item_save(actor=ACTOR, version=draft, external_id="price-cut", question=item.question,
                          answer="Мужская стрижка — 6 500 ₸.", alt_questions=["почём стрижка"], item=item)
    draft.refresh_from_db()
    assert draft.content_hash != old_hash
    audit = AuditLog.objects.get(action="kb.draft_edited")
    assert audit.payload["changes"]["answer"]["to"] == "Мужская стрижка — 6 500 ₸."
    with pytest.raises(ApplicationError, match="already has id"):
        services.kb_item_save(actor=ACTOR, version=draft, external_id="hours", question="q", answer="a", item=item)
    stable = services.kb_version_promote(actor=ACTOR, version=draft)
    with pytest.raises(ApplicationError, match="only drafts can be edited"):
        services.kb_item_save(actor=ACTOR, version=stable, external_id="new", question="q", answer="a")


def test_clone_and_diff(tenant_a):
    stable = services.kb_version_promote(actor=ACTOR, version=_import(tenant_a))
    draft = services.kb_version_clone(actor=ACTOR, version=stable)
    assert draft.status == VersionStatus.DRAFT and draft.based_on == stable and draft.content_hash == stable.content_hash
    services.kb_item_save(actor=ACTOR, version=draft, external_id="parking", question="Парковка есть?", answer="Да, бесплатная.")
    services.kb_item_delete(actor=ACTOR, item=KnowledgeItem.objects.get(version=draft, external_id="hours"))
    cut = KnowledgeItem.objects.get(version=draft, external_id="price-cut")
    services.kb_item_save(actor=ACTOR, version=draft, external_id="price-cut", question=cut.question, answer="7 000 ₸.", item=cut)
    diff = kb_version_diff(stable, draft)
    assert [i["id"] for i in diff["added"]] == ["parking"]
    assert [i["id"] for i in diff["removed"]] == ["hours"]
    assert diff["changed"][0]["id"] == "price-cut" and "answer" in diff["changed"][0]["changes"]


def test_serving_version_per_channel(tenant_a, tenant_b):
    assert kb_version_serving(tenant_a) is None and kb_version_default(tenant_a) is None
    draft = _import(tenant_a)
    assert kb_version_serving(tenant_a) is None and kb_version_default(tenant_a) == draft
    stable = services.kb_version_promote(actor=ACTOR, version=draft)
    candidate = services.kb_version_mark_candidate(actor=ACTOR, version=_import(tenant_a))
    _import(tenant_a)  # a newer draft that is not a candidate
    assert kb_version_serving(tenant_a) == stable and kb_version_default(tenant_a) == stable
    assert kb_version_serving(tenant_a, channel="canary") == candidate
    assert kb_version_serving(tenant_b, channel="canary") is None


def test_onboard_tenant_with_kb_serves_it_at_once(db, tmp_path):
    path = tmp_path / "kb.jsonl"
    path.write_text(ITEMS, encoding="utf-8")
    out = StringIO()
    call_command("onboard_tenant", "--slug", "new-salon", "--name", "New", "--kb", str(path), "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["kb_version"] == 1 and body["kb_items"] == 2 and body["kb_status"] == "stable"
    version = KnowledgeVersion.objects.get(tenant__slug="new-salon")
    assert version.status == VersionStatus.STABLE
    assert AuditLog.objects.filter(action="kb.first_stable", tenant_id=version.tenant_id).exists()
    assert AuditLog.objects.filter(action="policy.executed", payload__action="kb.first_stable").exists()
    path.write_text("oops", encoding="utf-8")
    with pytest.raises(CommandError, match="line 1"):
        call_command("onboard_tenant", "--slug", "other-salon", "--name", "Other", "--kb", str(path), stdout=StringIO())
    from tenants.models import Client

    assert not Client.objects.filter(slug="other-salon").exists()  # tenant and KB land together or not at all


def test_an_import_job_that_crashes_fails_and_leaves_an_error_log(tenant_a, monkeypatch):
    from incidents.models import ErrorLog
    from knowledge.choices import ImportJobStatus

    job = services.kb_import_job_create(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=ITEMS)

    def crash(**kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(services, "kb_import", crash)
    job = services.kb_import_job_run(job_id=job.pk)
    assert job.status == ImportJobStatus.FAILED and "index exploded" in job.message
    entry = ErrorLog.objects.get(where="knowledge.import_job")  # reported through imperium.core.errors
    assert entry.tenant_id == tenant_a.pk and entry.exception_type == "RuntimeError" and entry.context == {"job": job.pk}
