"""Each commune's health figures, computed in the background into CommuneHealth rows.

`refresh_health` is idempotent (one row per commune, overwritten with what the data says now)
and cheap for the list page: it reads the public schema once for all the communes it is given
(grouped queries) and each commune's schema twice. The console's list reads only the rows.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.db import DatabaseError
from django.db.models import Count, Max, Sum
from django.utils import timezone
from django_tenants.utils import tenant_context

from console.models import CommuneHealth
from shared_apps.audit.models import AuditEntry
from shared_apps.families.models import FamilyCommune
from shared_apps.wallet.models import AccountKind, LedgerTransaction, Posting
from tenant_apps.bookings.models import LIVE_STATUSES, Order, Reservation
from tenants.models import Commune

logger = logging.getLogger(__name__)

# Operators' own actions on a commune are not its activity.
OPERATOR_ACTION_PREFIX = "operator."


def week_of(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Monday and Sunday of the week holding `day` (a date in Europe/Paris)."""
    monday = day - datetime.timedelta(days=day.weekday())
    return monday, monday + datetime.timedelta(days=6)


def _latest(*moments: datetime.datetime | None) -> datetime.datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def refresh_health(
    communes: Iterable[Commune] | None = None, *, now: datetime.datetime | None = None
) -> int:
    """Write the health row of each given commune (default: every commune); returns how many.

    Figures: families that dealt with the commune (FamilyCommune); live bookings (booked,
    attended, absent) for the days of the current week, Monday to Sunday, Europe/Paris; money
    held in the pockets of its services, in cents, summed from the ledger's postings (never
    from the cached balances); last activity: the latest of its ledger transactions, audit
    entries other than operators' and orders. Idempotent: running it twice writes the same rows
    (only `computed_at` moves). A commune's schema read fails → its row is left as it was.
    """
    now = now or timezone.now()
    targets = list(communes) if communes is not None else list(Commune.objects.order_by("pk"))
    if not targets:
        return 0
    ids = [c.pk for c in targets]
    monday, sunday = week_of(timezone.localdate(now))
    families = dict(
        FamilyCommune.objects.filter(commune_id__in=ids)
        .values("commune_id")
        .annotate(n=Count("family_id", distinct=True))
        .values_list("commune_id", "n")
    )
    pockets = dict(
        Posting.objects.filter(
            account__kind=AccountKind.SERVICE_POCKET, account__commune_id__in=ids
        )
        .values("account__commune_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account__commune_id", "total")
    )
    ledger_last = dict(
        LedgerTransaction.objects.filter(commune_id__in=ids)
        .values("commune_id")
        .annotate(last=Max("created_at"))
        .values_list("commune_id", "last")
    )
    audit_last = dict(
        AuditEntry.objects.filter(commune_id__in=ids)
        .exclude(action__startswith=OPERATOR_ACTION_PREFIX)
        .values("commune_id")
        .annotate(last=Max("created_at"))
        .values_list("commune_id", "last")
    )
    rows = []
    for commune in targets:
        try:
            with tenant_context(commune):
                bookings = Reservation.objects.filter(
                    date__gte=monday, date__lte=sunday, status__in=LIVE_STATUSES
                ).count()
                order_last = Order.objects.aggregate(last=Max("created_at"))["last"]
        except DatabaseError:  # one broken schema must not hide the other communes' figures
            logger.exception("health of %s not refreshed", commune.schema_name)
            continue
        rows.append(
            CommuneHealth(
                commune=commune,
                families=families.get(commune.pk, 0),
                bookings_this_week=bookings,
                week_start=monday,
                pockets_cents=pockets.get(commune.pk) or 0,
                last_activity_at=_latest(
                    ledger_last.get(commune.pk), audit_last.get(commune.pk), order_last
                ),
                computed_at=now,
            )
        )
    # One upsert per 500 communes (INSERT … ON CONFLICT (commune) DO UPDATE): idempotent.
    CommuneHealth.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["commune"],
        update_fields=[
            "families",
            "bookings_this_week",
            "week_start",
            "pockets_cents",
            "last_activity_at",
            "computed_at",
        ],
    )
    written = len(rows)
    return written
