"""Low-balance alerts: once per pocket per crossing of its service's threshold."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.urls import reverse

from shared_apps.common.links import absolute_url
from shared_apps.families.models import Guardian
from shared_apps.jobs.models import SentNotice
from shared_apps.notifications.email import send_templated_email
from shared_apps.wallet.models import Account, AccountKind
from shared_apps.wallet.selectors import pocket_labels

if TYPE_CHECKING:
    from tenants.models import Commune

LOW_BALANCE_KIND = "low_balance"


def tell_low_balance(*, account_id: int, threshold_cents: int, new_crossing: bool) -> bool:
    """E-mail the guardians of the pocket's family that it is below `threshold_cents`; whether
    it was sent. Nothing when the pocket is gone or back at or above the threshold.

    The notice row (kind, commune, "account:<id>") is written in the e-mail's transaction: a
    failed e-mail leaves none, so a retry sends it. `new_crossing` (a payment just crossed the
    threshold) sends even when an earlier crossing's row is still there; otherwise (the daily
    job) an existing row means the family was already told.
    """
    account = Account.objects.select_related("wallet").filter(pk=account_id).first()
    if account is None or account.wallet is None or account.balance_cents >= threshold_cents:
        return False
    with transaction.atomic():
        _, created = SentNotice.objects.get_or_create(
            kind=LOW_BALANCE_KIND, commune_id=account.commune_id, key=f"account:{account.pk}"
        )
        if not created and not new_crossing:
            return False
        label = pocket_labels([account]).get(
            (account.commune_id, account.service_id), "votre service"
        )
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
    return True


def notify_low_balances(*, commune: Commune, thresholds: Mapping[int, int]) -> int:
    """The daily job: tell the family of every `commune` service pocket below its service's
    threshold (`thresholds`: {service id: cents}) that was not told since it fell there. A
    pocket seen back at or above its threshold loses its notice row, so its next fall is told
    again, and a pocket staying low is told once. Returns how many pockets were told."""
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
        if pocket.balance_cents < threshold and f"account:{pocket.pk}" not in already:
            told += tell_low_balance(
                account_id=pocket.pk, threshold_cents=threshold, new_crossing=False
            )
    return told
