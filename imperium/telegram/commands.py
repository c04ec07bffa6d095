"""CEO/operator commands: allow-list check, routing, argument validation, replies (the command
list: docs/TELEGRAM.md, the contract: docs/CONTRACTS.md "Telegram").

Register a command with `@command("name", usage=..., roles=...)`; its function validates
`ctx.args` (CommandUsageError for the usage text), calls services or `policy_execute`, and returns
the Russian reply rendered from a template. Work owned by another area is a *command backend*
that area registers by name (`register_command_backend("tenant.rollback", func)`); until it does,
the command answers "not configured".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imperium.core import policy
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record
from imperium.telegram import texts
from imperium.telegram.allowlist import allowed_user_get, allowlist_seed_from_settings
from imperium.telegram.choices import AllowedRole
from imperium.telegram.messaging import bot_username, reply_to
from imperium.telegram.models import TelegramAllowedUser
from imperium.telegram.router import UpdateHandler, register_handler
from imperium.telegram.status import register_status_section, status_report
from imperium.telegram.texts import render
from imperium.telegram.updates import IncomingUpdate, ParsedCommand, TelegramUser
from tenants.choices import ReleaseChannel
from tenants.models import Client
from tenants.selectors import client_get_by_slug

logger = logging.getLogger(__name__)

ALL_ROLES = frozenset(AllowedRole.values)
CEO_ONLY = frozenset({AllowedRole.CEO})


class CommandUsageError(Exception):
    """Arguments do not fit: the reply is the command's usage, with `detail` when given."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownTenantError(Exception):
    def __init__(self, slug: str) -> None:
        super().__init__(slug)
        self.slug = slug


@dataclass(frozen=True)
class CommandContext:
    update: IncomingUpdate
    command: ParsedCommand
    sender: TelegramUser
    allowed_user: TelegramAllowedUser
    actor: Actor

    @property
    def args(self) -> list[str]:
        return self.command.args


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    roles: frozenset[str]
    func: Callable[[CommandContext], str]

    @property
    def summary(self) -> str:
        return texts.COMMAND_SUMMARIES.get(self.name, "")


COMMANDS: dict[str, CommandSpec] = {}
_BACKENDS: dict[str, Callable[..., str]] = {}


def command(name: str, *, usage: str, roles: frozenset[str] = ALL_ROLES) -> Callable[[Callable[[CommandContext], str]], Any]:
    def decorator(func: Callable[[CommandContext], str]) -> Callable[[CommandContext], str]:
        COMMANDS[name] = CommandSpec(name=name, usage=usage, roles=frozenset(roles), func=func)
        return func

    return decorator


def register_command_backend(name: str, func: Callable[..., str]) -> None:
    _BACKENDS[name] = func


def command_backend(name: str) -> Callable[..., str] | None:
    return _BACKENDS.get(name)


def _run_backend(name: str, ctx: CommandContext, *args: Any) -> str:
    backend = command_backend(name)
    if backend is None:
        return render("not_configured", command=f"/{ctx.command.name}", backend=name)
    return backend(ctx, *args)


def _policy_action_available(action: str) -> bool:
    # The policy raises ApplicationError for an action without an executor; asking first lets the
    # command say "not configured" instead of showing that error.
    return policy.action_registered(action)


def _run_policy(action: str, ctx: CommandContext, params: dict[str, Any], *, tenant: Client, summary: str) -> str:
    if not _policy_action_available(action):
        return render("not_configured", command=f"/{ctx.command.name}", backend=action)
    outcome = policy.policy_execute(action, ctx.actor, params, tenant=tenant, reason=f"Telegram: {ctx.update.text[:200]}")
    return render("policy_outcome", outcome=outcome, summary=outcome.request.summary if outcome.request else summary)


def tenant_from_arg(slug: str) -> Client:
    tenant = client_get_by_slug(slug.lower())
    if tenant is None:
        raise UnknownTenantError(slug)
    return tenant


def help_text(role: str, *, unknown: str = "") -> str:
    specs = [spec for spec in COMMANDS.values() if role in spec.roles]  # registration order
    return render("help", commands=specs, unknown=unknown, role=role)


# --- the handler ----------------------------------------------------------------------------
@register_handler
class CommandHandler(UpdateHandler):
    name = "command"
    priority = 20

    def matches(self, update: IncomingUpdate) -> bool:
        return update.command is not None and update.sender is not None and not update.sender.is_bot

    def process(self, update: IncomingUpdate) -> str:
        parsed = update.command
        sender = update.sender
        assert parsed is not None and sender is not None
        if parsed.bot_username:
            ours = bot_username()
            if ours and parsed.bot_username.lower() != ours.lower():
                return "ignored: command for another bot"
        actor = Actor.telegram(sender.id, sender.label)
        allowlist_seed_from_settings()
        allowed = allowed_user_get(sender.id)
        if allowed is None:
            _audit_refusal(actor, parsed, update, "not_allowlisted")
            reply_to(update, render("refused", user=sender))
            return f"/{parsed.name}: refused (not on the allow-list)"
        if parsed.name in ("help", "start"):
            reply_to(update, help_text(allowed.role))
            return "help"
        spec = COMMANDS.get(parsed.name)
        if spec is None:
            reply_to(update, help_text(allowed.role, unknown=parsed.name))
            return f"/{parsed.name}: unknown, help sent"
        if allowed.role not in spec.roles:
            _audit_refusal(actor, parsed, update, "role")
            reply_to(update, render("role_refused", command=f"/{parsed.name}", role=allowed.get_role_display()))
            return f"/{parsed.name}: refused (role {allowed.role})"
        ctx = CommandContext(update=update, command=parsed, sender=sender, allowed_user=allowed, actor=actor)
        try:
            text = spec.func(ctx)
            outcome = "ok"
        except CommandUsageError as exc:
            text, outcome = render("usage", usage=spec.usage, detail=exc.detail), "usage"
        except UnknownTenantError as exc:
            text, outcome = render("unknown_tenant", slug=exc.slug, known=_known_slugs()), "unknown tenant"
        except ApplicationError as exc:
            text, outcome = render("command_error", message=exc.message), "refused by service"
        reply_to(update, text)
        return f"/{parsed.name}: {outcome}"


def _audit_refusal(actor: Actor, parsed: ParsedCommand, update: IncomingUpdate, reason: str) -> None:
    audit_record(
        actor=actor, action="telegram.command_refused",
        payload={"command": parsed.name, "args": parsed.args[:10], "chat_id": update.chat_id, "reason": reason},
    )


def _known_slugs() -> list[str]:
    return list(Client.objects.order_by("slug").values_list("slug", flat=True)[:20])


# --- commands -------------------------------------------------------------------------------
@command("help", usage="/help")
def command_help(ctx: CommandContext) -> str:  # routed by the handler; kept for the /help listing
    return help_text(ctx.allowed_user.role)


@command("status", usage="/status <клиент>")
def command_status(ctx: CommandContext) -> str:
    if len(ctx.args) != 1:
        raise CommandUsageError()
    return status_report(tenant_from_arg(ctx.args[0]))


@command("incident", usage="/incident <номер>")
def command_incident(ctx: CommandContext) -> str:
    if len(ctx.args) != 1 or not ctx.args[0].lstrip("#").isdigit():
        raise CommandUsageError()
    return _run_backend("incident.show", ctx, int(ctx.args[0].lstrip("#")))


@command("deploy", usage="/deploy canary <клиент>\n/deploy stable <клиент>", roles=CEO_ONLY)
def command_deploy(ctx: CommandContext) -> str:
    if len(ctx.args) != 2 or ctx.args[0].lower() not in ReleaseChannel.values:
        raise CommandUsageError()
    channel, tenant = ctx.args[0].lower(), tenant_from_arg(ctx.args[1])
    if channel == ReleaseChannel.CANARY:
        return _run_backend("tenant.deploy_canary", ctx, tenant)
    return _run_backend("tenant.deploy_stable", ctx, tenant)


@command("rollback", usage="/rollback <клиент>")
def command_rollback(ctx: CommandContext) -> str:
    if len(ctx.args) != 1:
        raise CommandUsageError()
    return _run_backend("tenant.rollback", ctx, tenant_from_arg(ctx.args[0]))


@command("kb", usage="/kb promote <клиент> <версия>", roles=CEO_ONLY)
def command_kb(ctx: CommandContext) -> str:
    if len(ctx.args) != 3 or ctx.args[0].lower() != "promote":
        raise CommandUsageError()
    if not ctx.args[2].lstrip("v").isdigit():
        raise CommandUsageError(render("kb_version_not_number", value=ctx.args[2]))
    tenant, version = tenant_from_arg(ctx.args[1]), int(ctx.args[2].lstrip("v"))
    return _run_policy("kb.promote", ctx, {"tenant": tenant.slug, "version": version}, tenant=tenant,
                       summary=render("kb_promote_summary", tenant=tenant, version=version))


# --- release backends -----------------------------------------------------------------------
# The Telegram commands run the same release operations as admin and the management commands,
# through the write-risk policy: a CEO's /deploy canary is itself the verification (low risk),
# /deploy stable waits for an approval.
def _release_outcome(ctx: CommandContext, outcome: policy.PolicyOutcome, summary: str) -> str:
    return render("policy_outcome", outcome=outcome, summary=outcome.request.summary if outcome.request else summary)


def _channel_flip_reply(tenant: Client, outcome: policy.PolicyOutcome) -> str:
    flip = outcome.result or {}
    return render("channel_changed", tenant=tenant, before=flip.get("from_channel"), after=flip.get("to_channel"),
                  changed=flip.get("changed"), release=flip.get("release_version"))


def tenant_deploy_canary_backend(ctx: CommandContext, tenant: Client) -> str:
    from releases import operations

    outcome = operations.deploy_canary(actor=ctx.actor, tenant=tenant, source="telegram", reason=ctx.update.text[:200])
    return _channel_flip_reply(tenant, outcome)


def tenant_rollback_backend(ctx: CommandContext, tenant: Client) -> str:
    from releases import operations

    outcome = operations.rollback(actor=ctx.actor, tenant=tenant, source="telegram", reason=ctx.update.text[:200])
    return _channel_flip_reply(tenant, outcome)


def tenant_deploy_stable_backend(ctx: CommandContext, tenant: Client) -> str:
    from releases import operations

    outcome = operations.deploy_stable(actor=ctx.actor, tenant=tenant, source="telegram", reason=ctx.update.text[:200])
    return _release_outcome(ctx, outcome, "canary release → stable")


def release_status_section(tenant: Client) -> str:
    """/status: the release and KB version the tenant's next turn gets (the turn task's own
    resolution, `releases.selectors.serving_context`) and what its last trace recorded."""
    from conversations.answering.decision import NO_KNOWLEDGE_SERVED
    from conversations.models import MessageTrace
    from releases.selectors import serving_context

    kb_version, release = serving_context(tenant)
    last = MessageTrace.objects.for_tenant(tenant).exclude(release="").order_by("-created_at", "-id").first()
    return render("status/release", release=release, kb_version=None if kb_version is NO_KNOWLEDGE_SERVED else kb_version, last=last)


register_status_section("release", release_status_section, order=15)
register_command_backend("tenant.deploy_canary", tenant_deploy_canary_backend)
register_command_backend("tenant.rollback", tenant_rollback_backend)
register_command_backend("tenant.deploy_stable", tenant_deploy_stable_backend)
