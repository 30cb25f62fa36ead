"""Wallet background work: the low-balance e-mail and the nightly ledger check."""

import io
import logging

from celery import shared_task
from django.core.management import CommandError, call_command
from django.urls import reverse

from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.jobs.recording import JobFindings
from shared_apps.jobs.scheduling import job_task
from shared_apps.notifications.email import send_templated_email
from shared_apps.wallet.models import Account
from shared_apps.wallet.selectors import pocket_labels

logger = logging.getLogger("marelle.jobs")


@shared_task
def send_low_balance_email_task(account_id: int, threshold_cents: int) -> None:
    account = Account.objects.select_related("wallet", "commune").filter(pk=account_id).first()
    if account is None or account.wallet is None or account.balance_cents >= threshold_cents:
        return  # topped up in the meantime: nothing to say
    label = pocket_labels([account]).get((account.commune_id, account.service_id), "votre service")
    emails = Guardian.objects.filter(family_id=account.wallet.family_id).values_list(
        "user__email", flat=True
    )
    for email in emails:
        send_templated_email(
            to=email,
            template="low_balance",
            context={
                "label": label,
                "balance_cents": account.balance_cents,
                "threshold_cents": threshold_cents,
                "link": absolute_url(reverse("wallet:home")),
            },
        )


@job_task()
def verify_ledger_task() -> str:
    """Nightly, platform-wide: the `verify_ledger` checks (balanced transactions, cached
    balances equal to their postings, no pocket below zero…). Any fault fails the run with the
    faults as its findings (ids and cents only), for operators; nothing is corrected."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_ledger", stdout=out, stderr=err)
    except CommandError as exc:
        faults = [line for line in err.getvalue().splitlines() if line.strip()]
        for fault in faults:
            logger.error("ledger: %s", fault)
        raise JobFindings(f"Grand livre : {len(faults)} anomalie(s)", faults) from exc
    return out.getvalue().strip()
