from __future__ import annotations

from celery import shared_task


@shared_task(name="imperium.tasks.verification_expire_due")
def verification_expire_due() -> int:
    from imperium.core.policy import verification_expire_due as expire

    return expire()
