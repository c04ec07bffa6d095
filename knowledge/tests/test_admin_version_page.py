"""The knowledge version page as an operator uses it: the form posts (unchanged, changed, an item
added and one deleted), and the page's tools (diff of two chosen versions, try a question,
evaluation results, import progress and duplicate warnings)."""

from __future__ import annotations

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
