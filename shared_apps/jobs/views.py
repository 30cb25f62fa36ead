"""The operators' page of scheduled jobs: recent runs and failures (public schema)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from shared_apps.jobs import selectors

# What operators read for each job (the task's last name → French).
JOB_LABELS = {
    "release_unpaid_orders_everywhere": "Libération des commandes carte impayées",
    "release_unpaid_orders_task": "Libération des commandes carte impayées (commune)",
    "delete_stale_carts_everywhere": "Suppression des paniers expirés",
    "delete_stale_carts_task": "Suppression des paniers expirés (commune)",
    "send_booking_reminders_everywhere": "Rappels avant la date limite de réservation",
    "send_booking_reminders_task": "Rappels avant la date limite (commune)",
    "send_low_balance_emails_everywhere": "Alertes de crédit bas",
    "send_low_balance_emails_task": "Alertes de crédit bas (commune)",
    "build_last_month_invoices_everywhere": "Facturation mensuelle",
    "build_invoices_task": "Facturation mensuelle (commune)",
    "verify_ledger_task": "Vérification du grand livre",
    "reconcile_with_provider_task": "Rapprochement avec le prestataire de paiement",
    "retry_unmatched_webhook_events_task": "Notifications de paiement en attente",
    "prune_job_runs_task": "Purge des anciennes exécutions",
}


def operator_required(view: Callable) -> Callable:
    """Platform operators only: anonymous → login page, anyone else (staff, parents) → 403."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not getattr(request.user, "is_operator", False):
            raise PermissionDenied("Réservé aux opérateurs de la plateforme.")
        return view(request, *args, **kwargs)

    return wrapped


def _label(task_name: str) -> str:
    return JOB_LABELS.get(task_name.rsplit(".", 1)[-1], task_name)


@operator_required
def runs(request: HttpRequest) -> HttpResponse:
    """Failures of the last 7 days (with their findings), then the latest 100 runs."""
    since = timezone.now() - datetime.timedelta(days=7)
    failed = list(selectors.failed_runs(since)[:100])
    recent = selectors.recent_runs(limit=100)
    for run in (*failed, *recent):
        run.label = _label(run.task_name)
    return render(
        request,
        "jobs/runs.html",
        {
            "failed": failed,
            "recent": recent,
            "failures_last_day": selectors.failed_runs(
                timezone.now() - datetime.timedelta(days=1)
            ).count(),
        },
    )
