"""Payment background work (public schema): thin tasks taking ids and calling services."""

import datetime
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from shared_apps.jobs.recording import JobFindings
from shared_apps.jobs.scheduling import job_task
from shared_apps.payments import services
from shared_apps.payments.reconciliation import reconcile_with_provider

logger = logging.getLogger("marelle.jobs")


@shared_task
def process_webhook_event_task(event_pk: int) -> None:
    """Apply a stored provider notification; idempotent, so a redelivered task does nothing."""
    services.process_webhook_event(event_pk=event_pk)


@job_task()
def retry_unmatched_webhook_events_task() -> int:
    """Beat: match provider events that arrived before their payment's reference was saved."""
    return services.retry_unmatched_webhook_events()


@job_task()
def reconcile_with_provider_task() -> int:
    """Nightly: compare the provider's payments and refunds of the last days with ours. The
    differences are logged and recorded as the run's findings (a failed JobRun that operators
    see); nothing is corrected automatically. Returns how many objects were compared clean (0)."""
    since = timezone.now() - datetime.timedelta(days=settings.RECONCILIATION_DAYS)
    differences = reconcile_with_provider(
        since=since, settle=datetime.timedelta(minutes=settings.RECONCILIATION_SETTLE_MINUTES)
    )
    for difference in differences:
        logger.warning("reconciliation: %s", difference.line)
    if differences:
        raise JobFindings(
            f"{len(differences)} écart(s) avec le prestataire de paiement",
            [difference.line for difference in differences],
        )
    return 0
