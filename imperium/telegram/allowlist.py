"""The allow-list of Telegram users who may command Imperium.

- `TELEGRAM_ADMIN_IDS` seeds CEO entries: after `migrate` (post_migrate) and again, lazily,
  before a command is checked, so a fresh deployment works without running anything else.
  Seeding only creates missing entries: an entry an operator deactivated or re-labelled in
  admin stays as they left it (admin is the truth once an entry exists).
- Roles: `ceo` may run every command; `operator` may run read-only commands and /rollback
  (a rollback only ever makes things safer). Django superusers manage entries in admin.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction

from imperium.core.actors import Actor
from imperium.core.services import audit_record
from imperium.telegram.choices import AllowedRole
from imperium.telegram.models import TelegramAllowedUser

logger = logging.getLogger(__name__)

SEED_LABEL = "TELEGRAM_ADMIN_IDS"


def allowlist_seed_from_settings() -> int:
    """Create a CEO entry for every id in TELEGRAM_ADMIN_IDS that has none. Returns how many
    were created. Idempotent (unique user id); audited as `telegram.allowlist_seeded`.

    Never raises because the database is not ready (first start before `migrate`): it logs
    and returns 0, and the next command tries again."""
    ids = list(dict.fromkeys(settings.TELEGRAM_ADMIN_IDS))
    if not ids:
        return 0
    try:
        existing = set(TelegramAllowedUser.objects.filter(telegram_user_id__in=ids).values_list("telegram_user_id", flat=True))
        created = 0
        for user_id in ids:
            if user_id in existing:
                continue
            try:
                with transaction.atomic():
                    entry = TelegramAllowedUser.objects.create(telegram_user_id=user_id, role=AllowedRole.CEO, label=SEED_LABEL)
                    audit_record(
                        actor=Actor.system("settings"), action="telegram.allowlist_seeded", obj=entry,
                        payload={"telegram_user_id": user_id, "role": AllowedRole.CEO},
                    )
                created += 1
            except IntegrityError:  # another process seeded it a moment ago
                continue
        return created
    except DatabaseError as exc:
        logger.warning("Telegram allow-list not seeded (database not ready?): %s", exc)
        return 0


def seed_after_migrate(sender: Any = None, **kwargs: Any) -> None:
    if kwargs.get("using", "default") != "default":
        return
    allowlist_seed_from_settings()


def allowed_user_get(telegram_user_id: int) -> TelegramAllowedUser | None:
    """The active allow-list entry of this Telegram user, or None."""
    return TelegramAllowedUser.objects.filter(telegram_user_id=telegram_user_id, is_active=True).first()


@transaction.atomic
def allowed_user_save(*, actor: Actor, entry: TelegramAllowedUser, created: bool, changed: list[str] | None = None) -> TelegramAllowedUser:
    """Save an entry edited in admin; audited as `telegram.allowlist_added` / `_changed`."""
    entry.save()
    audit_record(
        actor=actor,
        action="telegram.allowlist_added" if created else "telegram.allowlist_changed",
        obj=entry,
        payload={"telegram_user_id": entry.telegram_user_id, "role": entry.role, "is_active": entry.is_active,
                 "changed": changed or []},
    )
    return entry


@transaction.atomic
def allowed_user_delete(*, actor: Actor, entry: TelegramAllowedUser) -> None:
    audit_record(actor=actor, action="telegram.allowlist_removed", obj=entry,
                 payload={"telegram_user_id": entry.telegram_user_id, "role": entry.role})
    entry.delete()
