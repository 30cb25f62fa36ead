"""Low-balance alerts: once per pocket per crossing of its service's threshold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction

from shared_apps.jobs.models import SentNotice
from shared_apps.wallet.models import Account, AccountKind
from shared_apps.wallet.tasks import send_low_balance_email_task

if TYPE_CHECKING:
    from tenants.models import Commune

LOW_BALANCE_KIND = "low_balance"


def notify_low_balances(*, commune: Commune, thresholds: Mapping[int, int]) -> int:
    """E-mail the family of every `commune` service pocket below its service's threshold
    (`thresholds`: {service id: cents}), once per crossing: a SentNotice row is written with
    the e-mail and removed when the pocket is seen back at or above the threshold, so the next
    fall is told again and a daily run in between says nothing. Returns how many pockets were
    told this run."""
    pockets = list(
        Account.objects.filter(
            kind=AccountKind.SERVICE_POCKET,
            commune=commune,
            service_id__in=list(thresholds),
            wallet__isnull=False,
        ).only("pk", "service_id", "balance_cents")
    )
    notices = SentNotice.objects.filter(kind=LOW_BALANCE_KIND, commune=commune)
    notices.filter(
        key__in=[f"account:{p.pk}" for p in pockets if p.balance_cents >= thresholds[p.service_id]]
    ).delete()
    already = set(notices.values_list("key", flat=True))
    told = 0
    for pocket in pockets:
        threshold = thresholds[pocket.service_id]
        key = f"account:{pocket.pk}"
        if pocket.balance_cents >= threshold or key in already:
            continue
        with transaction.atomic():
            _, created = SentNotice.objects.get_or_create(
                kind=LOW_BALANCE_KIND, commune=commune, key=key
            )
            if created:
                send_low_balance_email_task(pocket.pk, threshold)  # here, inside the row's
                told += 1  # transaction: a failed e-mail leaves no row, the retry sends it
    return told
