"""The knowledge version page as an operator uses it: the form posts (unchanged, changed, an item
added and one deleted), and the page's tools (diff of two chosen versions, try a question,
evaluation results, import progress and duplicate warnings)."""

from __future__ import annotations

import re

from imperium.core.actors import Actor
from imperium.core.models import AuditLog
from imperium.core.testing.html_forms import form_data
from knowledge import services
from knowledge.models import KnowledgeItem, KnowledgeVersion

ACTOR = Actor.system("test")
KB = (
    '{"id": "hours", "question": "До скольки работаете?", "answer": "С 10:00 до 21:00.", "tags": ["hours"]}\n'
    '{"id": "parking", "question": "Есть парковка?", "alt_questions": ["Где оставить машину?"], "answer": "Да, во дворе."}\n'
)


def _page(web, version):
    url = f"/admin/knowledge/knowledgeversion/{version.pk}/change/"
    response = web.get(url)
    assert response.status_code == 200
    return url, response.content.decode()


def test_it_saves_the_version_page_unchanged(tenant_a, operator_a, login):
    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    before = draft.content_hash
    web = login(operator_a)
    url, html = _page(web, draft)
    response = web.post(url, form_data(html, "knowledgeversion_form"))
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.content_hash == before and draft.item_count == 2
    assert not AuditLog.objects.filter(action="kb.draft_edited").exists()


def test_it_saves_an_edited_item_a_new_one_and_a_deletion(tenant_a, operator_a, login):
    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    hours = KnowledgeItem.objects.get(version=draft, external_id="hours")
    parking = KnowledgeItem.objects.get(version=draft, external_id="parking")
    web = login(operator_a)
    url, html = _page(web, draft)
    data = form_data(html, "knowledgeversion_form")
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    index = {data[f"{prefix}-{i}-id"][0]: i for i in range(int(data[f"{prefix}-TOTAL_FORMS"][0]))}
    data[f"{prefix}-{index[str(hours.pk)]}-answer"] = ["С 09:00 до 22:00."]
    data[f"{prefix}-{index[str(parking.pk)]}-DELETE"] = ["on"]
    new = int(data[f"{prefix}-TOTAL_FORMS"][0])
    data[f"{prefix}-TOTAL_FORMS"] = [str(new + 1)]
    data.update({f"{prefix}-{new}-external_id": ["wifi"], f"{prefix}-{new}-question": ["Есть вайфай?"],
                 f"{prefix}-{new}-alt_questions": ["пароль от wifi\nинтернет"], f"{prefix}-{new}-answer": ["Да, пароль у администратора."],
                 f"{prefix}-{new}-tags": ["wifi, service"], f"{prefix}-{new}-version": [str(draft.pk)]})
    response = web.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    rows = {i.external_id: i for i in KnowledgeItem.objects.filter(version=draft)}
    assert set(rows) == {"hours", "wifi"}
    assert rows["hours"].answer == "С 09:00 до 22:00." and rows["hours"].tags == ["hours"]
    assert rows["wifi"].alt_questions == ["пароль от wifi", "интернет"] and rows["wifi"].tags == ["wifi", "service"]
    draft.refresh_from_db()
    assert draft.item_count == 2
    edits = AuditLog.objects.filter(action="kb.draft_edited", actor_label="op-a")
    assert edits.count() == 3 and edits.filter(payload__deleted="parking").exists()


def test_a_stable_version_page_has_no_editable_items_and_still_posts(tenant_a, operator_a, login):
    stable = services.kb_version_promote(actor=ACTOR, version=services.kb_import(actor=ACTOR, tenant=tenant_a,
                                                                                   file_name="a.jsonl", content=KB))
    web = login(operator_a)
    url, html = _page(web, stable)
    assert 'name="items-0-answer"' not in html
    data = form_data(html, "knowledgeversion_form")
    data["notes"] = ["checked by the salon"]
    assert web.post(url, data).status_code == 302
    stable.refresh_from_db()
    assert stable.notes == "checked by the salon" and stable.item_count == 2
    assert KnowledgeVersion.objects.count() == 1


def test_an_item_id_clash_is_refused_with_a_message_and_nothing_changes(tenant_a, operator_a, login):
    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    web = login(operator_a)
    url, html = _page(web, draft)
    data = form_data(html, "knowledgeversion_form")
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    data[f"{prefix}-0-answer"] = ["Другой ответ."]
    data[f"{prefix}-1-external_id"] = [data[f"{prefix}-0-external_id"][0]]
    response = web.post(url, data)
    assert response.status_code == 200 and 'class="errorlist' in response.content.decode()  # the form again, with the error
    assert sorted(KnowledgeItem.objects.filter(version=draft).values_list("external_id", flat=True)) == ["hours", "parking"]
    assert not KnowledgeItem.objects.filter(answer="Другой ответ.").exists()


# --- diff ------------------------------------------------------------------------------------

def _listed(page: str, section: str) -> list[str]:
    """Item ids in the diff's added / removed / changed list."""
    block = page.split(f'<ul id="kb-diff-{section}">', 1)[1].split("</ul>", 1)[0]
    return re.findall(r"<b>([^<]+)</b>", block)


def test_the_diff_of_a_lone_version_says_there_is_nothing_to_compare(tenant_a, operator_a, login):
    only = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    page = login(operator_a).get(f"/admin/knowledge/knowledgeversion/{only.pk}/diff/").content.decode()
    assert 'id="kb-diff-none"' in page and "v1 → v1" not in page


def test_the_diff_lets_the_operator_choose_both_versions(tenant_a, operator_a, login):
    v1 = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    v2 = services.kb_version_clone(actor=ACTOR, version=v1)
    services.kb_item_save(actor=ACTOR, version=v2, external_id="wifi", question="Есть вайфай?", answer="Да.")
    v3 = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="b.jsonl", content=KB.splitlines()[0] + "\n")
    web = login(operator_a)
    default = web.get(f"/admin/knowledge/knowledgeversion/{v2.pk}/diff/").content.decode()
    assert "v1 → v2" in default and _listed(default, "added") == ["wifi"]  # against the version it was cloned from
    data = form_data(default, "kb-diff-form")
    assert data == {"old": [str(v1.pk)], "new": [str(v2.pk)]}  # both ends are choices
    chosen = web.get(f"/admin/knowledge/knowledgeversion/{v2.pk}/diff/", {"old": v2.pk, "new": v3.pk}).content.decode()
    assert "v2 → v3" in chosen and sorted(_listed(chosen, "removed")) == ["parking", "wifi"]
    assert 'id="kb-diff-none"' in web.get(f"/admin/knowledge/knowledgeversion/{v2.pk}/diff/",
                                          {"old": v2.pk, "new": v2.pk}).content.decode()


def test_the_diff_refuses_versions_of_another_tenant(tenant_a, tenant_b, operator_a, login):
    mine = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    theirs = services.kb_import(actor=ACTOR, tenant=tenant_b, file_name="b.jsonl", content=KB)
    page = login(operator_a).get(f"/admin/knowledge/knowledgeversion/{mine.pk}/diff/", {"old": theirs.pk}).content.decode()
    assert "bravo" not in page and 'id="kb-diff-none"' in page


# --- try a question --------------------------------------------------------------------------

def test_try_a_question_answers_from_that_version(tenant_a, operator_a, login):
    stable = services.kb_version_promote(actor=ACTOR, version=services.kb_import(actor=ACTOR, tenant=tenant_a,
                                                                                   file_name="a.jsonl", content=KB))
    draft = services.kb_version_clone(actor=ACTOR, version=stable)
    hours = KnowledgeItem.objects.get(version=draft, external_id="hours")
    services.kb_item_save(actor=ACTOR, version=draft, item=hours, external_id="hours", question=hours.question,
                          answer="Теперь с 09:00 до 23:00.")
    web = login(operator_a)
    on_draft = web.get(f"/admin/knowledge/knowledgeversion/{draft.pk}/change/", {"try": "До скольки вы работаете?"}).content.decode()
    assert 'id="kb-try-reply"' in on_draft and "Теперь с 09:00 до 23:00." in on_draft and "С 10:00 до 21:00." not in on_draft
    on_stable = web.get(f"/admin/knowledge/knowledgeversion/{stable.pk}/change/", {"try": "До скольки вы работаете?"}).content.decode()
    assert "С 10:00 до 21:00." in on_stable and "Теперь с 09:00" not in on_stable
    escalated = web.get(f"/admin/knowledge/knowledgeversion/{draft.pk}/change/", {"try": "Хочу вернуть деньги, жалоба!"}).content.decode()
    assert 'id="kb-try-result"' in escalated and 'id="kb-try-reply"' not in escalated
    assert not AuditLog.objects.filter(action__startswith="conversation").exists()  # nothing was sent or stored


# --- evaluation ------------------------------------------------------------------------------

def test_the_version_page_shows_and_runs_the_evaluation(tenant_a, operator_a, login, lotus_kb):
    from knowledge.conftest import EVAL_DIR
    from knowledge.evaluation import load_cases
    from knowledge.models import KnowledgeEvalRun

    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="kb.jsonl", content=lotus_kb)
    web = login(operator_a)
    url, page = _page(web, draft)
    assert 'id="kb-eval-none"' in page and 'id="kb-evaluate"' not in page  # no cases stored
    cases = load_cases((EVAL_DIR / "lotus-beauty" / "cases.jsonl").read_text(encoding="utf-8"))
    services.kb_eval_set_save(actor=ACTOR, tenant=tenant_a, cases=cases)
    url, page = _page(web, draft)
    assert 'id="kb-evaluate"' in page
    assert web.post(f"/admin/knowledge/knowledgeversion/{draft.pk}/evaluate/").status_code == 302
    run = KnowledgeEvalRun.objects.get(version=draft)
    assert run.cases == len(cases)
    url, page = _page(web, draft)
    assert run.summary["headline"] in page and 'id="kb-eval-table"' in page and 'id="kb-eval-stale"' not in page
    item = KnowledgeItem.objects.filter(version=draft).first()
    services.kb_item_save(actor=ACTOR, version=draft, item=item, external_id=item.external_id, question=item.question,
                          answer=item.answer + " Ждём вас!")
    url, page = _page(web, draft)
    assert 'id="kb-eval-stale"' in page


# --- import progress and identical imports ---------------------------------------------------

def test_the_import_page_refreshes_itself_while_the_job_runs(tenant_a, operator_a, login):
    import time_machine
    from django.utils import timezone

    from knowledge.choices import ImportJobStatus
    from knowledge.models import KnowledgeImportJob

    job = services.kb_import_job_create(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    web = login(operator_a)
    url = f"/admin/knowledge/knowledgeimportjob/{job.pk}/change/"
    queued = web.get(url).content.decode()
    head = queued.split("</head>")[0]
    assert '<meta http-equiv="refresh" content="2">' in head and 'id="kb-import-stuck"' not in queued
    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=2)):
        assert 'id="kb-import-stuck"' in web.get(url).content.decode()  # no worker took it
    services.kb_import_job_run(job_id=job.pk)
    assert KnowledgeImportJob.objects.get(pk=job.pk).status == ImportJobStatus.DONE
    done = web.get(url).content.decode()
    assert 'http-equiv="refresh"' not in done and 'value="100"' in done and 'id="kb-import-version-link"' in done
    assert 'id="kb-import-same-content"' not in done


def test_an_identical_import_is_flagged(tenant_a, operator_a, login, tmp_path):
    from io import StringIO

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    web = login(operator_a)
    upload = "/admin/knowledge/knowledgeversion/upload/"
    first = web.post(upload, {"tenant": tenant_a.pk, "file": SimpleUploadedFile("kb.jsonl", KB.encode())})
    assert 'id="kb-import-same-content"' not in web.get(first["Location"]).content.decode()
    again = web.post(upload, {"tenant": tenant_a.pk, "file": SimpleUploadedFile("kb2.jsonl", KB.encode())})
    page = web.get(again["Location"]).content.decode()
    assert 'id="kb-import-same-content"' in page and "v1 (" in page
    v2 = KnowledgeVersion.objects.get(tenant=tenant_a, number=2)
    assert 'id="kb-same-content"' in _page(web, v2)[1]
    # The command line says it too.
    path = tmp_path / "kb.jsonl"
    path.write_text(KB, encoding="utf-8")
    err = StringIO()
    call_command("kb_import", "--tenant", tenant_a.slug, str(path), stdout=StringIO(), stderr=err)
    assert "identical to v2, v1" in err.getvalue()
