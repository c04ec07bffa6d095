"""CI webhook: signature check and payload parsing (GitHub check_suite / workflow_run, or a simple shape).

Signature: GitHub's `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` with the
shared secret `CI_WEBHOOK_SECRET`. Accepted bodies (JSON object):

- GitHub `check_suite` (header `X-GitHub-Event: check_suite`): `check_suite.head_branch`,
  `head_sha`, `status`, `conclusion`, `updated_at`;
- GitHub `workflow_run` (`X-GitHub-Event: workflow_run`): `workflow_run.name` (only
  `CI_WORKFLOW_NAME` counts when set), `head_branch`, `head_sha`, `status`, `conclusion`,
  `html_url`, `updated_at`;
- simple (no event header, or `X-GitHub-Event: ci_status`):
  `{"branch": "fix/…", "sha": "<hex>", "status": "running"|"passed"|"failed", "url": "…", "updated_at": "<ISO 8601>"}`
  (`branch` or `sha` required; `url`, `updated_at` optional).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADERS = ("X-GitHub-Delivery", "X-Delivery-Id")

RUNNING, PASSED, FAILED = "running", "passed", "failed"
_RUNNING_STATES = {"requested", "queued", "in_progress", "waiting", "pending"}
_FAILED_CONCLUSIONS = {"failure", "timed_out", "cancelled", "action_required", "startup_failure"}
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")


class CIPayloadError(ValueError):
    """The body is signed but not something we understand (answered 400)."""


@dataclass(frozen=True)
class CIStatus:
    event: str
    branch: str
    sha: str
    state: str | None  # running / passed / failed; None: nothing to apply (see `note`)
    conclusion: str = ""
    url: str = ""
    updated_at: datetime | None = None
    note: str = ""


def sign(body: bytes, secret: str) -> str:
    """The header value GitHub would send for `body` (used by tests and docs)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, header: str | None, secret: str) -> bool:
    """Constant-time check of `X-Hub-Signature-256` against the secret. An empty secret never matches."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header.strip().lower().encode(), sign(body, secret).encode())


def _text(value: Any, name: str, *, required: bool = False, limit: int = 255) -> str:
    if value is None or value == "":
        if required:
            raise CIPayloadError(f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise CIPayloadError(f"{name} must be a string")
    if len(value) > limit:
        raise CIPayloadError(f"{name} is longer than {limit} characters")
    return value


def _sha(value: Any, name: str) -> str:
    sha = _text(value, name, limit=40)
    if sha and not _SHA.match(sha):
        raise CIPayloadError(f"{name} must be a hexadecimal commit sha")
    return sha.lower()


def _time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise CIPayloadError(f"{name} must be an ISO 8601 timestamp")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise CIPayloadError(f"{name} must be an ISO 8601 timestamp with a time zone")
    return parsed


def _github_state(status: str, conclusion: str) -> tuple[str | None, str]:
    if status in _RUNNING_STATES:
        return RUNNING, ""
    if status == "completed":
        if conclusion == "success":
            return PASSED, ""
        if conclusion in _FAILED_CONCLUSIONS:
            return FAILED, ""
        return None, f"conclusion {conclusion or 'none'} carries no verdict"
    return None, f"status {status or 'none'} is not a CI state"


def _github(event: str, payload: dict[str, Any], key: str, workflow_name: str) -> CIStatus:
    run = payload.get(key)
    if not isinstance(run, dict):
        raise CIPayloadError(f"{key} object is missing")
    status = _text(run.get("status"), f"{key}.status", required=True, limit=40)
    conclusion = _text(run.get("conclusion"), f"{key}.conclusion", limit=40)
    branch = _text(run.get("head_branch"), f"{key}.head_branch")
    sha = _sha(run.get("head_sha"), f"{key}.head_sha")
    if not branch and not sha:
        raise CIPayloadError(f"{key} names neither head_branch nor head_sha")
    url = _text(run.get("html_url") or run.get("url"), f"{key}.html_url", limit=500)
    updated_at = _time(run.get("updated_at"), f"{key}.updated_at")
    state, note = _github_state(status, conclusion)
    if key == "workflow_run" and workflow_name:
        name = _text(run.get("name"), "workflow_run.name")
        if name != workflow_name:
            state, note = None, f"workflow {name!r} is not {workflow_name!r} (CI_WORKFLOW_NAME)"
    return CIStatus(event=event, branch=branch, sha=sha, state=state, conclusion=conclusion or status, url=url,
                    updated_at=updated_at, note=note)


def _simple(payload: dict[str, Any]) -> CIStatus:
    status = _text(payload.get("status"), "status", required=True, limit=40)
    if status not in (RUNNING, PASSED, FAILED):
        raise CIPayloadError("status must be running, passed or failed")
    branch = _text(payload.get("branch"), "branch")
    sha = _sha(payload.get("sha"), "sha")
    if not branch and not sha:
        raise CIPayloadError("branch or sha is required")
    return CIStatus(event="ci_status", branch=branch, sha=sha, state=status, conclusion=status,
                    url=_text(payload.get("url"), "url", limit=500), updated_at=_time(payload.get("updated_at"), "updated_at"))


def parse_ci_payload(event: str, payload: Any, *, workflow_name: str = "") -> CIStatus:
    """Turn a signed delivery into a CIStatus; CIPayloadError when it is malformed."""
    if not isinstance(payload, dict):
        raise CIPayloadError("the body must be a JSON object")
    event = (event or "").strip().lower()
    if event == "check_suite":
        return _github(event, payload, "check_suite", "")
    if event == "workflow_run":
        return _github(event, payload, "workflow_run", workflow_name)
    if event in ("", "ci_status"):
        return _simple(payload)
    return CIStatus(event=event[:40], branch="", sha="", state=None, note=f"event {event!r} is not a CI status")
