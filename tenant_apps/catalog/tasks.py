"""Scheduled jobs of a commune's services (shared_apps.jobs: retried, recorded)."""

from __future__ import annotations

from shared_apps.jobs.scheduling import fan_out, job_task
from shared_apps.wallet.alerts import notify_low_balances
from tenant_apps.catalog.models import Service
from tenants.models import Commune


@job_task(tenant=True)
def send_low_balance_emails_task(schema_name: str) -> int:
    """E-mail the families whose pocket for a service fell below the service's alert threshold
    (once per crossing). Returns how many pockets were told."""
    thresholds = dict(
        Service.objects.filter(low_balance_threshold_cents__isnull=False).values_list(
            "pk", "low_balance_threshold_cents"
        )
    )
    if not thresholds:
        return 0
    return notify_low_balances(
        commune=Commune.objects.get(schema_name=schema_name), thresholds=thresholds
    )


@job_task()
def send_low_balance_emails_everywhere() -> int:
    """Beat (daily): one sub-task per commune taking jobs."""
    return fan_out(send_low_balance_emails_task)
