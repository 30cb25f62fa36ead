"""The console's background work: the communes' health snapshot (Celery beat, and on demand)."""

from __future__ import annotations

from config.celery import app
from console.health import refresh_health
from tenants.models import Commune


@app.task
def refresh_health_task() -> int:
    """Beat: every commune's health row (idempotent); returns how many rows were written."""
    return refresh_health()


@app.task
def refresh_commune_health_task(commune_id: int) -> int:
    """One commune's health row, on an operator's demand (0 if the commune is gone)."""
    commune = Commune.objects.filter(pk=commune_id).first()
    return refresh_health([commune]) if commune is not None else 0
