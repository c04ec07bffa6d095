from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from imperium.core.crypto import mask
from imperium.core.fields import EncryptedTextField
from tenants.choices import ClientStatus, MembershipRole, ReleaseChannel
from tenants.scoping import TenantScopedQuerySet
from tenants.validators import validate_telegram_chat_id, validate_tenant_slug, validate_timezone

DEFAULT_HOLDING_REPLY = "Спасибо! Передаю ваш вопрос администратору — он ответит в этом чате."
DEFAULT_HOLDING_FOLLOWUP = "Извините за ожидание! Администратор уже видит ваш вопрос и ответит вам здесь в ближайшее время."


class Client(models.Model):
    """A tenant: one business whose WhatsApp number Imperium answers."""

    tenant_scope_path = "pk"

    slug = models.SlugField(_("slug"), max_length=50, unique=True, validators=[validate_tenant_slug])
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=20, choices=ClientStatus.choices, default=ClientStatus.ONBOARDING)
    timezone = models.CharField(_("timezone"), max_length=64, default="Asia/Almaty", validators=[validate_timezone])
    locale = models.CharField(_("locale"), max_length=10, default="ru")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["slug"]
        verbose_name = _("client (tenant)")
        verbose_name_plural = _("clients (tenants)")

    def __str__(self) -> str:
        return self.slug

    @property
    def accepts_traffic(self) -> bool:
        return self.status != ClientStatus.DISABLED


class ClientSettings(models.Model):
    """Per-tenant configuration. Secrets are encrypted at rest and never shown whole."""

    tenant_scope_path = "client"

    client = models.OneToOneField(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="settings")
    webhook_secret = EncryptedTextField(_("webhook secret"), help_text=_("Current Standard Webhooks secret (whsec_…)."))
    webhook_secret_previous = EncryptedTextField(_("webhook secret previous"),
        blank=True, default="", help_text=_("Previous secret, still accepted during rotation.")
    )
    webhook_secret_rotated_at = models.DateTimeField(_("webhook secret rotated at"), null=True, blank=True)
    chatflow_token = EncryptedTextField(_("chatflow token"), blank=True, default="")
    chatflow_instance_id = models.CharField(_("chatflow instance id"), max_length=100, blank=True, default="")
    telegram_chat_id = models.BigIntegerField(_("telegram chat id"), null=True, blank=True, validators=[validate_telegram_chat_id])
    telegram_topic_id = models.PositiveIntegerField(_("telegram topic id"), null=True, blank=True)
    release_channel = models.CharField(_("release channel"), max_length=10, choices=ReleaseChannel.choices, default=ReleaseChannel.STABLE)
    coalesce_window_seconds = models.PositiveSmallIntegerField(_("coalesce window seconds"),
        default=3, validators=[MinValueValidator(0), MaxValueValidator(60)],
        help_text=_("Wait this long after the customer's last message before answering."),
    )
    coalesce_max_seconds = models.PositiveSmallIntegerField(_("coalesce max seconds"),
        default=12, validators=[MinValueValidator(0), MaxValueValidator(120)],
        help_text=_("Never wait longer than this after the first unanswered message."),
    )
    holding_reply_template = models.TextField(_("holding reply template"), default=DEFAULT_HOLDING_REPLY)
    holding_followup_template = models.TextField(_("holding followup template"),
        blank=True, default=DEFAULT_HOLDING_FOLLOWUP,
        help_text=_("Sent once more to a customer still waiting for a manager after the escalation SLA (empty: the default text)."),
    )
    escalation_sla_minutes = models.PositiveSmallIntegerField(_("escalation sla minutes"), default=15, validators=[MinValueValidator(1)])
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Secrets stay out of history: a history diff would show them decrypted. Their rotation
    # is recorded in the audit log instead.
    history = HistoricalRecords(excluded_fields=["webhook_secret", "webhook_secret_previous", "chatflow_token"])
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("client settings")
        verbose_name_plural = _("client settings")

    def __str__(self) -> str:
        return gettext("Settings of %(client)s") % {"client": self.client.name if self.client_id else "—"}

    @property
    def webhook_secrets(self) -> list[str]:
        """Secrets a signature may be made with, current first."""
        return [s for s in (self.webhook_secret, self.webhook_secret_previous) if s]

    @property
    def webhook_secret_masked(self) -> str:
        return mask(self.webhook_secret)

    @property
    def chatflow_token_masked(self) -> str:
        return mask(self.chatflow_token)


class TenantMembership(models.Model):
    """Grants a staff user access to one tenant's rows."""

    tenant_scope_path = "client"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="tenant_memberships")
    client = models.ForeignKey(Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=MembershipRole.choices, default=MembershipRole.OPERATOR)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="uniq_membership_user_client")]
        verbose_name = _("tenant membership")
        verbose_name_plural = _("tenant memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.client_id} ({self.role})"
