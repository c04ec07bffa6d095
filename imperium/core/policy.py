"""Write-risk policy (DEC-003/DEC-007): low-risk actions run at once, high-risk ones wait for a
verifier (docs/ARCHITECTURE.md "Write-risk policy"; risk levels in docs/IMPERIUM_DECISIONS.yaml,
unlisted = high).

Apps register executors (`@register_action` in a `policy_actions.py`) and preconditions
(`register_precondition`: checked at request time and again right before execution); entry points
call `policy_execute(action, actor, params)`. Verifier checks and request notifiers are registered
by the apps that know them, so this base module imports no app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any, Literal

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.choices import ActorKind
from imperium.core.exceptions import ApplicationError
from imperium.core.models import VerificationRequest, VerificationStatus
from imperium.core.services import audit_record

logger = logging.getLogger(__name__)

Risk = Literal["low", "high"]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    risk: Risk
    description: str = ""


@dataclass
class RegisteredAction:
    name: str
    run: Callable[..., Any]
    summary: str = ""


@dataclass
class PolicyOutcome:
    status: Literal["executed", "pending", "failed", "rejected", "expired"]
    action: str
    risk: Risk
    result: Any = None
    request: VerificationRequest | None = None
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def executed(self) -> bool:
        return self.status == "executed"


_ACTIONS: dict[str, RegisteredAction] = {}
_VERIFIER_CHECKS: list[Callable[[Actor], bool]] = []
_NOTIFIERS: list[Callable[[VerificationRequest], None]] = []
_PRECONDITIONS: dict[str, list[Callable[..., None]]] = {}
_discovered = False


# --- registration --------------------------------------------------------------------------
def register_action(name: str, *, summary: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the function that performs `name`. `summary` is formatted with the params."""

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        _ACTIONS[name] = RegisteredAction(name=name, run=func, summary=summary)
        return func

    return decorator


def register_verifier_check(check: Callable[[Actor], bool]) -> None:
    if check not in _VERIFIER_CHECKS:
        _VERIFIER_CHECKS.append(check)


def register_verification_notifier(notifier: Callable[[VerificationRequest], None]) -> None:
    if notifier not in _NOTIFIERS:
        _NOTIFIERS.append(notifier)


def action_registered(name: str) -> bool:
    """Whether an executor exists for `name` (so callers can say "not available" up front)."""
    _discover()
    return name in _ACTIONS


def register_precondition(action: str, check: Callable[..., None]) -> None:
    """`check(actor=..., params=...)` raises ApplicationError to refuse `action` (see module doc)."""
    checks = _PRECONDITIONS.setdefault(action, [])
    if check not in checks:
        checks.append(check)


def check_preconditions(action: str, actor: Actor, params: dict[str, Any]) -> None:
    _discover()
    for check in _PRECONDITIONS.get(action, ()):
        check(actor=actor, params=params)


def _discover() -> None:
    global _discovered
    if not _discovered:
        autodiscover_modules("policy_actions")
        _discovered = True


# --- the policy data -----------------------------------------------------------------------
@lru_cache(maxsize=1)
def _policy_data() -> dict[str, Any]:
    data = yaml.safe_load(settings.DECISIONS_FILE.read_text(encoding="utf-8"))
    return data["write_risk_policy"]


def action_spec(name: str) -> ActionSpec:
    spec = _policy_data()["actions"].get(name)
    if spec is None:
        # Unclassified means high: forgetting to classify must never make an action automatic.
        return ActionSpec(name=name, risk="high", description="(not classified in IMPERIUM_DECISIONS.yaml)")
    return ActionSpec(name=name, risk=spec["risk"], description=spec.get("description", ""))


def verifier_roles() -> list[str]:
    return list(_policy_data().get("verification", {}).get("verifier_roles", ["ceo"]))


def verification_ttl() -> timedelta:
    return timedelta(hours=float(_policy_data().get("verification", {}).get("expires_after_hours", 24)))


def is_verifier(actor: Actor) -> bool:
    if actor.kind == ActorKind.USER and actor.user is not None:
        if actor.user.is_active and actor.user.is_superuser:
            return True
    return any(check(actor) for check in _VERIFIER_CHECKS)


SELF_APPROVAL = "self_approval"


def is_requester(request: VerificationRequest, actor: Actor) -> bool:
    """Whether `actor` is who asked for `request` (the same user in admin, the same Telegram user)."""
    return bool(actor.id) and actor.kind == request.requested_by_kind and actor.id == request.requested_by_id


def may_approve(request: VerificationRequest, actor: Actor) -> bool:
    """Whether `verification_approve` would let `actor` decide `request` (for showing buttons)."""
    if not is_verifier(actor):
        return False
    return settings.VERIFICATION_ALLOW_SELF_APPROVAL or not is_requester(request, actor)


def _summary(name: str, params: dict[str, Any]) -> str:
    registered = _ACTIONS.get(name)
    template = registered.summary if registered and registered.summary else ""
    try:
        return template.format(**params) if template else f"{name} {params}"
    except (KeyError, IndexError, ValueError):
        return f"{name} {params}"


def _run(name: str, actor: Actor, params: dict[str, Any]) -> Any:
    _discover()
    registered = _ACTIONS.get(name)
    if registered is None:
        raise ApplicationError(f"No executor is registered for action {name!r}.")
    check_preconditions(name, actor, params)
    return registered.run(actor=actor, **params)


# --- entry point ---------------------------------------------------------------------------
def policy_execute(
    action: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
    *,
    tenant: Any = None,
    reason: str = "",
) -> PolicyOutcome:
    """Run `action` now when it is low risk; otherwise create a pending VerificationRequest.

    Low risk: executes in one transaction with an audit entry `policy.executed`; an
    ApplicationError from the action propagates unchanged. High risk: returns `pending` with the
    request, audited as `policy.verification_requested`, and registered notifiers are told
    after commit. `params` must be JSON-serialisable: they are stored until approval.
    """
    _discover()
    params = dict(params or {})
    spec = action_spec(action)
    if action not in _ACTIONS:
        raise ApplicationError(f"No executor is registered for action {action!r}.")
    if spec.risk == "low":
        with transaction.atomic():
            result = _run(action, actor, params)
            audit_record(actor=actor, action="policy.executed", tenant=tenant,
                         payload={"action": action, "risk": "low", "params": params, "reason": reason})
        return PolicyOutcome(status="executed", action=action, risk="low", result=result)

    check_preconditions(action, actor, params)
    with transaction.atomic():
        request = VerificationRequest.objects.create(
            action=action,
            params=params,
            summary=_summary(action, params)[:500],
            reason=reason[:1000],
            tenant_id=getattr(tenant, "pk", tenant),
            requested_by_kind=actor.kind,
            requested_by_id=actor.id,
            requested_by_label=actor.label[:150],
            expires_at=timezone.now() + verification_ttl(),
        )
        audit_record(actor=actor, action="policy.verification_requested", tenant=tenant, obj=request,
                     payload={"action": action, "params": params, "reason": reason})
        transaction.on_commit(lambda: _notify(request.pk))
    return PolicyOutcome(status="pending", action=action, risk="high", request=request)


def _notify(request_id: int) -> None:
    request = VerificationRequest.objects.get(pk=request_id)
    for notifier in _NOTIFIERS:
        try:
            notifier(request)
        except Exception:  # a notifier must never undo or block the request
            logger.exception("verification notifier failed for request %s", request_id)


# --- decisions -----------------------------------------------------------------------------
def verification_approve(*, request_id: int, actor: Actor) -> PolicyOutcome:
    """Approve and execute a pending request — exactly once, even when pressed twice at once.

    The conditional update `pending → executed` and the action run in one transaction: two
    concurrent approvals serialise on the row, the second finds it no longer pending. When the
    action fails, the transaction rolls back and the request is marked `failed` with the error.
    Only verifiers may approve (refusals are audited as `policy.approval_refused`), and never the
    requester themself unless `VERIFICATION_ALLOW_SELF_APPROVAL` is on (four eyes; refusals are
    audited as `policy.self_approval_refused`).
    """
    request = VerificationRequest.objects.get(pk=request_id)
    if not is_verifier(actor):
        audit_record(actor=actor, action="policy.approval_refused", tenant=request.tenant_id, obj=request,
                     payload={"action": request.action})
        raise ApplicationError(_("Only a verifier (CEO) may approve this action."), status=403)
    now = timezone.now()
    if request.status == VerificationStatus.PENDING and request.expires_at <= now:
        verification_expire_due()
        request.refresh_from_db()
    if request.status != VerificationStatus.PENDING:
        return _already_decided(request)
    if is_requester(request, actor) and not settings.VERIFICATION_ALLOW_SELF_APPROVAL:
        audit_record(actor=actor, action="policy.self_approval_refused", tenant=request.tenant_id, obj=request,
                     payload={"action": request.action})
        raise ApplicationError(_("You requested this action yourself: another verifier must approve it (four eyes)."),
                               {"code": SELF_APPROVAL}, status=403)
    try:
        with transaction.atomic():
            claimed = VerificationRequest.objects.filter(
                pk=request.pk, status=VerificationStatus.PENDING, expires_at__gt=now
            ).update(
                status=VerificationStatus.EXECUTED, decided_at=now, decided_by_kind=actor.kind,
                decided_by_id=actor.id, decided_by_label=actor.label[:150],
            )
            if claimed != 1:
                request.refresh_from_db()
                return _already_decided(request)
            result = _run(request.action, actor, dict(request.params))
            VerificationRequest.objects.filter(pk=request.pk).update(result=_jsonable(result))
            audit_record(actor=actor, action="policy.approved", tenant=request.tenant_id, obj=request,
                         payload={"action": request.action, "params": request.params})
    except Exception as exc:
        message = exc.message if isinstance(exc, ApplicationError) else f"{type(exc).__name__}: {exc}"
        failed = VerificationRequest.objects.filter(pk=request.pk, status=VerificationStatus.PENDING).update(
            status=VerificationStatus.FAILED, decided_at=now, decided_by_kind=actor.kind,
            decided_by_id=actor.id, decided_by_label=actor.label[:150], error=message[:2000],
        )
        if failed:
            audit_record(actor=actor, action="policy.execution_failed", tenant=request.tenant_id, obj=request,
                         payload={"action": request.action, "error": message[:500]})
        if not isinstance(exc, ApplicationError):
            logger.exception("approved action %s failed", request.action)
        request.refresh_from_db()
        return PolicyOutcome(status="failed", action=request.action, risk="high", request=request, error=message)
    request.refresh_from_db()
    return PolicyOutcome(status="executed", action=request.action, risk="high", request=request, result=request.result)


def _already_decided(request: VerificationRequest) -> PolicyOutcome:
    return PolicyOutcome(status=request.status, action=request.action, risk="high", request=request,  # type: ignore[arg-type]
                         result=request.result, error=request.error, extra={"already": True})


def verification_reject(*, request_id: int, actor: Actor, reason: str = "") -> VerificationRequest:
    """Reject a pending request (verifiers only). Idempotent: rejecting twice changes nothing."""
    request = VerificationRequest.objects.get(pk=request_id)
    if not is_verifier(actor):
        audit_record(actor=actor, action="policy.approval_refused", tenant=request.tenant_id, obj=request,
                     payload={"action": request.action, "attempt": "reject"})
        raise ApplicationError(_("Only a verifier (CEO) may reject this action."), status=403)
    with transaction.atomic():
        changed = VerificationRequest.objects.filter(pk=request.pk, status=VerificationStatus.PENDING).update(
            status=VerificationStatus.REJECTED, decided_at=timezone.now(), decided_by_kind=actor.kind,
            decided_by_id=actor.id, decided_by_label=actor.label[:150], error=reason[:2000],
        )
        if changed:
            audit_record(actor=actor, action="policy.rejected", tenant=request.tenant_id, obj=request,
                         payload={"action": request.action, "reason": reason})
    request.refresh_from_db()
    return request


def verification_expire_due() -> int:
    """Mark pending requests past their expiry as expired (audited as the system). Returns the count."""
    now = timezone.now()
    expired = 0
    for request in VerificationRequest.objects.filter(status=VerificationStatus.PENDING, expires_at__lte=now):
        with transaction.atomic():
            if VerificationRequest.objects.filter(pk=request.pk, status=VerificationStatus.PENDING).update(
                status=VerificationStatus.EXPIRED, decided_at=now
            ):
                expired += 1
                audit_record(actor=Actor.system("policy"), action="policy.expired", tenant=request.tenant_id, obj=request,
                             payload={"action": request.action})
    return expired


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return str(value)
