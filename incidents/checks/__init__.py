"""Sentinel checks: small classes, each looking at one part of the system.

A check returns `Observation`s — one per target it judged (the whole system, a tenant, a
collection). The sentinel (`incidents.sentinel`) records each as a `CheckResult` and feeds it to
the incident lifecycle (`incidents.services.incident_observe`). A check never writes anything
itself and never raises: `run_check` turns a crash into a failing observation.

Checks live with the data they read: system checks here, the knowledge index's in
`knowledge.sentinel_checks`, the pipeline's in `conversations.sentinel_checks` (the protocol they
implement is `imperium.core.sentinel`).
`settings.SENTINEL_CHECKS` lists the classes the sentinel runs.
"""

from incidents.checks.base import Check, CheckContext, Observation, check_for, checks_configured, run_check

__all__ = ["Check", "CheckContext", "Observation", "check_for", "checks_configured", "run_check"]
