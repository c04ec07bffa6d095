from __future__ import annotations

from io import StringIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from imperium.core.actors import Actor
from imperium.core.models import AuditLog
from knowledge import services
from knowledge.choices import ImportJobStatus, VersionStatus
from knowledge.models import KnowledgeImportJob, KnowledgeItem, KnowledgeVersion

ACTOR = Actor.system("test")
KB = '{"id": "hours", "question": "До скольки работаете?", "answer": "С 10:00 до 21:00."}\n'


def test_an_operator_sees_only_their_tenants_knowledge(tenant_a, tenant_b, operator_a, login):
    mine = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    theirs = services.kb_import(actor=ACTOR, tenant=tenant_b, file_name="b.jsonl", content=KB.replace("21:00", "22:00"))
    web = login(operator_a)
    listing = web.get("/admin/knowledge/knowledgeversion/")
    assert listing.status_code == 200 and "alpha" in listing.content.decode() and "bravo" not in listing.content.decode()
    assert web.get(f"/admin/knowledge/knowledgeversion/{theirs.pk}/change/").status_code == 302  # "does not exist" redirect
    assert web.get(f"/admin/knowledge/knowledgeversion/{theirs.pk}/diff/").status_code == 404
    theirs_item = KnowledgeItem.objects.get(version=theirs)
    assert web.get(f"/admin/knowledge/knowledgeitem/{theirs_item.pk}/change/").status_code == 302
    items = web.get("/admin/knowledge/knowledgeitem/").content.decode()
    assert f"/knowledgeitem/{KnowledgeItem.objects.get(version=mine).pk}/" in items
    assert f"/knowledgeitem/{theirs_item.pk}/" not in items


def test_upload_with_progress_creates_a_draft(tenant_a, operator_a, login):
    web = login(operator_a)
    response = web.post("/admin/knowledge/knowledgeversion/upload/",
                        {"tenant": tenant_a.pk, "file": SimpleUploadedFile("kb.jsonl", KB.encode())})
    job = KnowledgeImportJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/knowledgeimportjob/{job.pk}/change/")
    assert job.status == ImportJobStatus.DONE and job.progress == 100 and job.version.status == VersionStatus.DRAFT
    page = web.get(response["Location"]).content.decode()
    assert 'value="100"' in page
    web.post("/admin/knowledge/knowledgeversion/upload/",
             {"tenant": tenant_a.pk, "file": SimpleUploadedFile("kb.jsonl", (KB + "{broken").encode())})
    failed = KnowledgeImportJob.objects.filter(status=ImportJobStatus.FAILED).get()
    assert "line 2" in failed.message and KnowledgeVersion.objects.count() == 1


def test_upload_refuses_another_tenant(tenant_b, operator_a, login):
    response = login(operator_a).post("/admin/knowledge/knowledgeversion/upload/",
                                      {"tenant": tenant_b.pk, "file": SimpleUploadedFile("kb.jsonl", KB.encode())})
    assert response.status_code == 200 and not KnowledgeImportJob.objects.exists()


def test_editing_a_draft_item_goes_through_the_service(tenant_a, operator_a, login):
    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    item = KnowledgeItem.objects.get(version=draft)
    web = login(operator_a)
    response = web.post(f"/admin/knowledge/knowledgeitem/{item.pk}/change/", {
        "external_id": "hours", "question": "До скольки работаете?", "alt_questions": "до скольки открыто\nчасы работы",
        "answer": "С 10:00 до 22:00.", "tags": "hours, schedule"})
    assert response.status_code == 302
    item.refresh_from_db()
    draft.refresh_from_db()
    assert item.alt_questions == ["до скольки открыто", "часы работы"] and item.tags == ["hours", "schedule"]
    assert draft.content_hash != services.kb_content_hash([{"id": "hours", "question": "q", "answer": "a"}])
    assert AuditLog.objects.filter(action="kb.draft_edited", actor_label="op-a").exists()
    services.kb_version_promote(actor=ACTOR, version=draft)
    assert web.post(f"/admin/knowledge/knowledgeitem/{item.pk}/change/", {
        "external_id": "hours", "question": "q", "answer": "changed"}).status_code == 403


def test_clone_action_and_diff_page(tenant_a, operator_a, login):
    stable = services.kb_version_promote(actor=ACTOR, version=services.kb_import(actor=ACTOR, tenant=tenant_a,
                                                                                   file_name="a.jsonl", content=KB))
    web = login(operator_a)
    web.post("/admin/knowledge/knowledgeversion/", {"action": "clone_into_draft", "_selected_action": [stable.pk]})
    draft = KnowledgeVersion.objects.get(status=VersionStatus.DRAFT)
    assert draft.based_on == stable and draft.item_count == 1
    services.kb_item_save(actor=ACTOR, version=draft, external_id="parking", question="Парковка?", answer="Есть.")
    page = web.get(f"/admin/knowledge/knowledgeversion/{draft.pk}/diff/").content.decode()
    assert '<ul id="kb-diff-added"><li><b>parking</b>' in page and '<ul id="kb-diff-removed"><li>' in page


def test_kb_reindex_rebuilds_from_postgres(tenant_a):
    version = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    out = StringIO()
    call_command("kb_reindex", "--tenant", tenant_a.slug, "--version", str(version.number), stdout=out)
    assert "alpha v1: 1 items, ok" in out.getvalue()
    assert version.sync_logs.count() == 2
    assert AuditLog.objects.filter(action="kb.reindexed", tenant_id=tenant_a.pk).exists()


def test_promotion_from_admin_waits_for_a_verifier(tenant_a, operator_a, login):
    from imperium.core.models import VerificationRequest

    draft = services.kb_import(actor=ACTOR, tenant=tenant_a, file_name="a.jsonl", content=KB)
    login(operator_a).post("/admin/knowledge/knowledgeversion/", {"action": "request_promotion", "_selected_action": [draft.pk]})
    request = VerificationRequest.objects.get(action="kb.promote")
    assert request.params == {"tenant": tenant_a.slug, "version": draft.number} and request.requested_by_label == "op-a"
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_the_suggestion_queue_bulk_actions_decide_only_pending_rows_of_the_operators_tenants(
    tenant_a, tenant_b, operator_a, login, celery_eager, django_capture_on_commit_callbacks
):
    """Admin's queue: bulk accept puts every selected pending suggestion into one open draft (and asks
    for one promotion), bulk reject drops the selected ones; decided rows and another tenant's are
    left as they are."""
    from imperium.core.models import VerificationRequest
    from knowledge.models import KnowledgeSuggestion

    for tenant in (tenant_a, tenant_b):
        services.kb_version_make_first_stable(actor=ACTOR, version=services.kb_import(
            actor=ACTOR, tenant=tenant, file_name="kb.jsonl", content=KB))

    def suggestion(tenant, question, answer, status="pending"):
        return KnowledgeSuggestion.objects.create(tenant=tenant, kind="new_item", question=question, answer=answer, status=status)

    parking = suggestion(tenant_a, "Есть ли парковка?", "Да, бесплатная парковка во дворе.")
    dogs = suggestion(tenant_a, "Можно с собакой?", "С животными нельзя, кроме собак-поводырей.")
    wifi = suggestion(tenant_a, "Есть wi-fi?", "Да, пароль у администратора.")
    decided = suggestion(tenant_a, "Есть ли кофе?", "Да, бесплатно.", status="rejected")
    theirs = suggestion(tenant_b, "Парковка есть?", "Да, во дворе.")
    client = login(operator_a)
    url = "/admin/knowledge/knowledgesuggestion/"

    with django_capture_on_commit_callbacks(execute=True):  # the promotion request is queued after commit
        response = client.post(url, {"action": "accept_suggestions",
                                     "_selected_action": [parking.pk, dogs.pk, decided.pk, theirs.pk]}, follow=True)
    assert response.status_code == 200
    for row in (parking, dogs, decided, theirs):
        row.refresh_from_db()
    assert parking.status == dogs.status == "accepted" and parking.version_id == dogs.version_id
    assert decided.status == "rejected" and theirs.status == "pending"
    draft = KnowledgeVersion.objects.get(tenant=tenant_a, status=VersionStatus.DRAFT)
    assert set(KnowledgeItem.objects.filter(version=draft).values_list("answer", flat=True)) >= {parking.answer, dogs.answer}
    assert not KnowledgeVersion.objects.filter(tenant=tenant_b, status=VersionStatus.DRAFT).exists()
    assert VerificationRequest.objects.filter(action="kb.promote_learned", params__tenant=tenant_a.slug).count() == 1

    response = client.post(url, {"action": "reject_suggestions", "_selected_action": [wifi.pk, parking.pk, theirs.pk]}, follow=True)
    assert "Отклонено предложений: 1." in response.content.decode()
    for row in (wifi, parking, theirs):
        row.refresh_from_db()
    assert wifi.status == "rejected" and wifi.decided_by == "op-a"
    assert parking.status == "accepted" and theirs.status == "pending"
    assert AuditLog.objects.filter(action="kb.suggestion_rejected").count() == 1
