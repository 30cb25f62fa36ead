"""Payment background work (public schema): thin tasks taking ids and calling services."""

from celery import shared_task

from shared_apps.payments import services


@shared_task
def process_webhook_event_task(event_pk: int) -> None:
    """Apply a stored provider notification; idempotent, so a redelivered task does nothing."""
    services.process_webhook_event(event_pk=event_pk)


@shared_task
def retry_unmatched_webhook_events_task() -> int:
    """Beat: match provider events that arrived before their payment's reference was saved."""
    return services.retry_unmatched_webhook_events()
