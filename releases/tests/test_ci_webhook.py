"""POST /releases/ci-webhook: HMAC-signed CI statuses move fix proposals; anything else changes nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient

from imperium.core.actors import Actor
from releases import fix_services
from releases.ci import sign
from releases.models import CIDelivery, FixProposal, FixProposalEvent

pytestmark = pytest.mark.django_db

SECRET = "ci-secret-for-tests"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
URL = "/releases/ci-webhook"


@pytest.fixture(autouse=True)
def ci_secret(settings):
    settings.CI_WEBHOOK_SECRET = SECRET
    settings.CI_WORKFLOW_NAME = "ci"


@pytest.fixture
def proposal(alerts):
    return fix_services.fix_proposal_create(actor=Actor.system("fixer"), title="Retry Qdrant timeouts", branch="fix/qdrant-retry",
                                            pr_url="https://github.com/acme/imperium/pull/42", commit_sha=SHA)


def post(body, *, event="check_suite", delivery="d-1", secret=SECRET, signature=None, raw=None):
    data = raw if raw is not None else json.dumps(body).encode()
    headers = {"HTTP_X_GITHUB_EVENT": event} if event else {}
    if delivery:
        headers["HTTP_X_GITHUB_DELIVERY"] = delivery
    if signature is not False:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature or sign(data, secret)
    return HttpClient().post(URL, data=data, content_type="application/json", **headers)


def check_suite(status, conclusion=None, *, sha=SHA, branch="fix/qdrant-retry", updated_at="2026-11-26T10:00:00Z"):
    return {"action": "completed" if status == "completed" else "requested",
            "check_suite": {"head_branch": branch, "head_sha": sha, "status": status, "conclusion": conclusion,
                            "url": "https://api.github.com/repos/acme/imperium/check-suites/1", "updated_at": updated_at}}


def workflow_run(status, conclusion=None, *, name="ci", updated_at="2026-11-26T10:00:00Z"):
    return {"action": "completed" if status == "completed" else "in_progress",
            "workflow_run": {"name": name, "head_branch": "fix/qdrant-retry", "head_sha": SHA, "status": status,
                             "conclusion": conclusion, "html_url": "https://github.com/acme/imperium/actions/runs/9",
                             "updated_at": updated_at}}


def status_of(proposal) -> str:
    return FixProposal.objects.get(pk=proposal.pk).status


@pytest.mark.parametrize("signature", [False, "sha256=" + "0" * 64, "sha1=abc", sign(b"{}", "wrong-secret")])
def test_it_refuses_a_missing_or_bad_signature_and_changes_nothing(proposal, signature):
    response = post(check_suite("completed", "success"), signature=signature)
    assert response.status_code == 401 and response.json() == {"error": "Bad or missing signature."}
    assert status_of(proposal) == "proposed"
    assert not CIDelivery.objects.exists() and FixProposalEvent.objects.count() == 1


def test_it_refuses_a_body_changed_after_signing(proposal):
    body = json.dumps(check_suite("completed", "failure")).encode()
    signature = sign(body, SECRET)
    tampered = body.replace(b"failure", b"success")
    assert post(None, raw=tampered, signature=signature).status_code == 401
    assert status_of(proposal) == "proposed" and not CIDelivery.objects.exists()


def test_it_answers_503_when_no_secret_is_configured(proposal, settings):
    settings.CI_WEBHOOK_SECRET = ""
    response = post(check_suite("completed", "success"), signature=sign(b"x", "anything"))
    assert response.status_code == 503 and status_of(proposal) == "proposed"


def test_a_good_delivery_moves_the_proposal_and_a_redelivery_changes_nothing(proposal, alerts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        running = post(check_suite("in_progress", updated_at="2026-11-26T10:00:00Z"), delivery="d-1")
    assert running.status_code == 200
    assert running.json() == {"status": "applied", "proposal": proposal.pk, "proposal_status": "ci_running", "note": ""}
    with django_capture_on_commit_callbacks(execute=True):
        passed = post(check_suite("completed", "success", updated_at="2026-11-26T10:05:00Z"), delivery="d-2")
    assert passed.json()["proposal_status"] == "ci_passed"
    again = post(check_suite("completed", "success", updated_at="2026-11-26T10:05:00Z"), delivery="d-2")
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    proposal.refresh_from_db()
    assert proposal.status == "ci_passed" and proposal.ci_conclusion == "success"
    transitions = list(proposal.events.order_by("id").values_list("from_status", "to_status", "source"))
    assert transitions == [("", "proposed", "system"), ("proposed", "ci_running", "ci"), ("ci_running", "ci_passed", "ci")]
    assert CIDelivery.objects.count() == 2
    assert [a["title"] for a in alerts][-2:] == [f"Фикс #{proposal.pk}: CI запущен", f"Фикс #{proposal.pk}: CI пройден"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"check_suite": {"head_sha": SHA}}).encode(), "check_suite.status is required"),
        (json.dumps({"check_suite": {"status": "completed", "head_sha": "zzz"}}).encode(), "hexadecimal"),
        (json.dumps({"check_suite": {"status": "queued"}}).encode(), "neither head_branch nor head_sha"),
        (json.dumps({"check_suite": {"status": "queued", "head_sha": SHA, "updated_at": "yesterday"}}).encode(), "ISO 8601"),
    ],
)
def test_it_answers_400_to_a_signed_but_malformed_body(proposal, raw, fragment):
    response = post(None, raw=raw)
    assert response.status_code == 400 and fragment in response.json()["error"]
    assert status_of(proposal) == "proposed" and not CIDelivery.objects.exists()


def test_workflow_runs_of_other_workflows_are_ignored(proposal):
    response = post(workflow_run("completed", "failure", name="codeql"), event="workflow_run")
    assert response.json()["status"] == "ignored" and "codeql" in response.json()["note"]
    assert status_of(proposal) == "proposed"
    failed = post(workflow_run("completed", "failure"), event="workflow_run", delivery="d-2")
    assert failed.json()["proposal_status"] == "ci_failed"


def test_the_simple_shape_works_without_a_delivery_header_and_dedups_by_body(proposal):
    body = {"branch": "fix/qdrant-retry", "status": "passed", "url": "https://ci.example.com/run/5"}
    first = post(body, event="", delivery=None)
    assert first.json()["proposal_status"] == "ci_passed"
    assert post(body, event="", delivery=None).json()["status"] == "duplicate"
    assert FixProposal.objects.get(pk=proposal.pk).ci_url == "https://ci.example.com/run/5"


def test_an_older_status_arriving_late_does_not_undo_a_newer_one(proposal):
    post(check_suite("completed", "success", updated_at="2026-11-26T10:05:00Z"), delivery="d-2")
    late = post(check_suite("in_progress", updated_at="2026-11-26T10:00:00Z"), delivery="d-1")
    assert late.json()["status"] == "ignored" and status_of(proposal) == "ci_passed"


def test_a_new_push_on_the_branch_moves_the_proposal_to_the_new_commit(proposal):
    new_sha = "a" * 40
    response = post(check_suite("in_progress", sha=new_sha, updated_at="2026-11-26T11:00:00Z"))
    assert response.json()["proposal"] == proposal.pk
    proposal.refresh_from_db()
    assert proposal.commit_sha == new_sha and proposal.status == "ci_running"


def test_statuses_for_unknown_branches_and_non_verdicts_are_recorded_but_change_nothing(proposal):
    other = post(check_suite("completed", "success", sha="b" * 40, branch="feature/other"))
    assert other.status_code == 200 and other.json()["status"] == "no_match"
    neutral = post(check_suite("completed", "neutral"), delivery="d-2")
    assert neutral.json()["status"] == "ignored"
    assert status_of(proposal) == "proposed"
    assert set(CIDelivery.objects.values_list("outcome", flat=True)) == {"no_match", "ignored"}


def test_ping_answers_pong(proposal):
    assert post({"zen": "Keep it logically awesome."}, event="ping").json()["status"] == "pong"


def test_the_endpoint_is_in_the_openapi_schema():
    schema = HttpClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/releases/ci-webhook"]["post"]
    assert {"200", "400", "401", "503"} <= set(operation["responses"])
    assert any(p["name"] == "X-Hub-Signature-256" for p in operation["parameters"])
