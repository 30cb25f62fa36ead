"""Wallet background work: the low-balance e-mail and the nightly ledger check."""

import io
import logging

from celery import shared_task
from django.core.management import CommandError, call_command

from shared_apps.jobs.recording import JobFindings
from shared_apps.jobs.scheduling import job_task
from shared_apps.wallet.alerts import tell_low_balance

logger = logging.getLogger("marelle.jobs")


@shared_task
def send_low_balance_email_task(account_id: int, threshold_cents: int) -> None:
    """A payment just took the pocket below its threshold: tell the family (a new crossing,
    recorded so that the daily low-balance job does not tell it again)."""
    tell_low_balance(account_id=account_id, threshold_cents=threshold_cents, new_crossing=True)


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
