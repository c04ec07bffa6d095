"""Explicit Celery queue routes and the beat schedule.

Every task must have a route here: `imperium/tests/test_task_routing.py` fails for a registered
task without one, so a new task can never land silently on a queue no worker reads.

Queues: `default` (housekeeping, alerts, Telegram, sentinel), `stable` and `canary` (customer
turns, split by the tenant's release channel so canary tenants run on canary workers).
"""

from __future__ import annotations

TASK_QUEUES: tuple[str, ...] = ("default", "stable", "canary")

TASK_ROUTES: dict[str, dict[str, str]] = {
    "imperium.tasks.verification_expire_due": {"queue": "default"},
    # Telegram: alert outbox and incoming updates (imperium/telegram, incidents/alerts.py).
    "incidents.alert_send": {"queue": "default"},
    "incidents.alerts_sweep": {"queue": "default"},
    "telegram.update_process": {"queue": "default"},
    "telegram.updates_sweep": {"queue": "default"},
    "telegram.notices_flush": {"queue": "default"},
    "telegram.notices_sweep": {"queue": "default"},
    "knowledge.tasks.kb_import_job_run": {"queue": "default"},
    # Customer work: published with queue=turn_queue_for(tenant); the route is the fallback.
    "conversations.turn_run": {"queue": "stable"},
    "conversations.turn_resume": {"queue": "stable"},
    "conversations.outbound_deliver": {"queue": "stable"},
    "conversations.escalation_notify": {"queue": "default"},
    "conversations.turn_forward_notify": {"queue": "default"},
    "conversations.outbox_sweep": {"queue": "default"},
    "conversations.reminders_process": {"queue": "default"},
    "releases.canary_analysis": {"queue": "default"},
    # Salon CRM (crm/tasks.py): records pulled from the CRM, messages around each visit.
    "crm.records_sync": {"queue": "default"},
    "crm.visit_messages_send": {"queue": "default"},
    # Sentinel, fixer and housekeeping (incidents/).
    "incidents.sentinel_run": {"queue": "default"},
    "incidents.fixer_run": {"queue": "default"},
    "incidents.prune": {"queue": "default"},
}

# Soft and hard time limits (seconds) per task family. At the soft limit the task gets
# SoftTimeLimitExceeded (it can record what happened); at the hard limit the worker child is killed
# and replaced. The work stays safe either way: turns and deliveries hold leases, so the outbox
# sweeper resumes what a killed task left (docs/PIPELINE.md). A turn's hard limit stays under
# TURN_LEASE_SECONDS (120) so it is never resumed while still running.
TASK_TIME_LIMITS: dict[str, tuple[int, int]] = {
    "turns": (90, 110),            # retrieval + LLM (LLM_TIMEOUT x retries) + QC + the reply's first send
    "delivery": (150, 180),        # up to 1 + CHATFLOW_MAX_RETRIES sends with backoff between them
    "notifications": (60, 90),     # Telegram calls (TELEGRAM_TIMEOUT each), alerts
    "sweeps": (120, 150),          # outbox, reminders, alert and update sweeps, housekeeping
    "monitoring": (240, 300),      # sentinel run, fixer, canary analysis (many probes with timeouts)
    "knowledge": (1800, 1900),     # a KB import with its embeddings
    "crm": (300, 360),             # CRM record sync and visit messages (paged outside API calls)
}
TASK_FAMILIES: dict[str, str] = {
    "imperium.tasks.verification_expire_due": "sweeps",
    "incidents.alert_send": "notifications",
    "incidents.alerts_sweep": "sweeps",
    "telegram.update_process": "notifications",
    "telegram.updates_sweep": "sweeps",
    "telegram.notices_flush": "notifications",
    "telegram.notices_sweep": "sweeps",
    "knowledge.tasks.kb_import_job_run": "knowledge",
    "conversations.turn_run": "turns",
    "conversations.turn_resume": "turns",
    "conversations.outbound_deliver": "delivery",
    "conversations.escalation_notify": "notifications",
    "conversations.turn_forward_notify": "notifications",
    "conversations.outbox_sweep": "sweeps",
    "conversations.reminders_process": "sweeps",
    "releases.canary_analysis": "monitoring",
    "incidents.sentinel_run": "monitoring",
    "incidents.fixer_run": "monitoring",
    "incidents.prune": "sweeps",
    "crm.records_sync": "crm",
    "crm.visit_messages_send": "crm",
}
TASK_ANNOTATIONS: dict[str, dict[str, int]] = {
    name: {"soft_time_limit": TASK_TIME_LIMITS[family][0], "time_limit": TASK_TIME_LIMITS[family][1]}
    for name, family in TASK_FAMILIES.items()
}

# Synced into django-celery-beat's tables at beat start (DatabaseScheduler), where operators
# can pause or retime an entry in admin.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "verification-expire": {"task": "imperium.tasks.verification_expire_due", "schedule": 300.0},
    "alerts-sweep": {"task": "incidents.alerts_sweep", "schedule": 30.0},
    "telegram-updates-sweep": {"task": "telegram.updates_sweep", "schedule": 60.0},
    # Manager notices waiting for their forum topic (Telegram was down when they were written).
    "telegram-notices-sweep": {"task": "telegram.notices_sweep", "schedule": 30.0, "options": {"expires": 60}},
    "conversations-reminders": {
        "task": "conversations.reminders_process",
        "schedule": 60.0,  # settings.REMINDERS_SWEEP_SECONDS overrides it
        "options": {"expires": 120},
    },
    "conversations-outbox-sweep": {
        "task": "conversations.outbox_sweep",
        "schedule": 5.0,  # settings.OUTBOX_SWEEP_SECONDS overrides it
        "options": {"expires": 30},
    },
    "releases-canary-analysis": {
        "task": "releases.canary_analysis",
        "schedule": 300.0,  # settings.CANARY_ANALYSIS_SECONDS overrides it
        "options": {"expires": 240},
    },
    # settings.CRM_SYNC_SECONDS / CRM_VISIT_MESSAGES_SECONDS override these.
    "crm-records-sync": {"task": "crm.records_sync", "schedule": 900.0, "options": {"expires": 600}},
    "crm-visit-messages": {"task": "crm.visit_messages_send", "schedule": 300.0, "options": {"expires": 240}},
    # settings.SENTINEL_INTERVAL_SECONDS / FIXER_INTERVAL_SECONDS override these.
    "sentinel-run": {"task": "incidents.sentinel_run", "schedule": 60.0, "options": {"expires": 60}},
    "incidents-fixer": {"task": "incidents.fixer_run", "schedule": 60.0, "options": {"expires": 60}},
    "incidents-prune": {"task": "incidents.prune", "schedule": 3600.0},
}


def unrouted_tasks(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Names of the app's own registered tasks that have no explicit route."""
    return sorted(
        name for name in app.tasks if not name.startswith("celery.") and name not in TASK_ROUTES
    )
