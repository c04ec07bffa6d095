"""Celery entry points of the releases app. Thin: a service call, nothing else."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="releases.canary_analysis")
def canary_analysis() -> dict[str, Any] | None:
    """Beat job (every CANARY_ANALYSIS_SECONDS): compare the canary with stable, act on the verdict."""
    from releases.analysis import canary_analysis_beat

    return canary_analysis_beat()
