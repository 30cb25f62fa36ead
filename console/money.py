"""The platform's money flows over a period, read from the ledger's postings and reconciled.

Only the families' pockets are followed (money held for them: the "tous services" credit and
each service's credit). For each commune (the commune a ledger transaction is tagged with; the
"tous services" top-ups belong to none), in [start, end): top-ups by card, counter payments,
spending (bookings and invoices paid from a pocket), refunds (to a pocket or back to a card),
anything else; then the pockets' balances at both ends. Every sum comes from Posting rows.

The check: opening + movements = closing, for the platform and for each commune's service
pockets; when the period reaches today, the closing balance equals the accounts' cached
balances; and no transaction of the period fails to sum to zero (as `verify_ledger` checks).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q, Sum

from shared_apps.wallet.models import (
    POCKET_KINDS,
    Account,
    AccountKind,
    LedgerTransaction,
    Posting,
    TransactionKind,
)
from tenants.models import Commune

COLUMNS = ("top_ups", "counter", "spending", "refunds", "other")
_COLUMN_OF: dict[str, str] = {
    TransactionKind.TOP_UP: "top_ups",
    TransactionKind.COUNTER_CREDIT: "counter",
    TransactionKind.SPEND: "spending",
    TransactionKind.COLLECTION: "spending",
    TransactionKind.REFUND: "refunds",
    TransactionKind.CARD_REFUND: "refunds",
}


@dataclass
class FlowRow:
    """Movements of the pockets in the period for one commune (None: no commune), in cents
    (positive: money into the pockets), and its service pockets' balances at both ends."""

    commune: Commune | None
    top_ups: int = 0
    counter: int = 0
    spending: int = 0
    refunds: int = 0
    other: int = 0
    opening_cents: int = 0  # its service pockets, at start
    closing_cents: int = 0  # its service pockets, at end

    @property
    def net(self) -> int:
        return self.top_ups + self.counter + self.spending + self.refunds + self.other


@dataclass
class MoneyFlows:
    start: datetime.datetime
    end: datetime.datetime
    rows: list[FlowRow]
    total: FlowRow
    opening_cents: int  # every pocket, at start
    closing_cents: int  # every pocket, at end
    cached_cents: int | None  # the accounts' cached balances (only when end is not in the past)
    unbalanced: list[str] = field(default_factory=list)  # source keys not summing to zero
    mismatched: list[str] = field(default_factory=list)  # communes whose pockets do not add up

    @property
    def movements_match(self) -> bool:
        return self.opening_cents + self.total.net == self.closing_cents

    @property
    def balanced(self) -> bool:
        return (
            self.movements_match
            and not self.unbalanced
            and not self.mismatched
            and (self.cached_cents is None or self.cached_cents == self.closing_cents)
        )


def _balances_before(moment: datetime.datetime) -> tuple[int, dict[int, int]]:
    """(every pocket, {commune id: its service pockets}) summed from the postings before."""
    rows = (
        Posting.objects.filter(account__kind__in=POCKET_KINDS, transaction__created_at__lt=moment)
        .values("account__kind", "account__commune_id")
        .annotate(total=Sum("amount_cents"))
        .values_list("account__kind", "account__commune_id", "total")
    )
    everything = 0
    per_commune: dict[int, int] = defaultdict(int)
    for kind, commune_id, total in rows:
        everything += total
        if kind == AccountKind.SERVICE_POCKET and commune_id is not None:
            per_commune[commune_id] += total
    return everything, per_commune


def money_flows(
    start: datetime.datetime, end: datetime.datetime, *, now: datetime.datetime
) -> MoneyFlows:
    """The pockets' flows in [start, end) per commune and for the platform, reconciled (see the
    module). Inputs: aware datetimes, `now` to tell whether the cached balances apply. Seven
    queries whatever the number of communes or transactions."""
    moved: dict[int | None, FlowRow] = {}
    service_moved: dict[int, int] = defaultdict(int)
    for commune_id, kind, account_kind, account_commune, total in (
        Posting.objects.filter(
            account__kind__in=POCKET_KINDS,
            transaction__created_at__gte=start,
            transaction__created_at__lt=end,
        )
        .values(
            "transaction__commune_id",
            "transaction__kind",
            "account__kind",
            "account__commune_id",
        )
        .annotate(total=Sum("amount_cents"))
        .values_list(
            "transaction__commune_id",
            "transaction__kind",
            "account__kind",
            "account__commune_id",
            "total",
        )
    ):
        row = moved.setdefault(commune_id, FlowRow(commune=None))
        column = _COLUMN_OF.get(kind, "other")
        setattr(row, column, getattr(row, column) + total)
        if account_kind == AccountKind.SERVICE_POCKET and account_commune is not None:
            service_moved[account_commune] += total
    opening, opening_per = _balances_before(start)
    closing, closing_per = _balances_before(end)
    ids: set[int | None] = set(moved) | set(opening_per) | set(closing_per)
    communes = Commune.objects.in_bulk([i for i in ids if i is not None])

    def order(commune_id: int | None) -> tuple[bool, str]:
        found = communes.get(commune_id) if commune_id is not None else None
        return (commune_id is None, found.name if found else "")

    rows = []
    mismatched = []
    for key in sorted(ids, key=order):
        row = moved.get(key) or FlowRow(commune=None)
        row.commune = communes.get(key) if key is not None else None
        if key is not None:
            row.opening_cents = opening_per.get(key, 0)
            row.closing_cents = closing_per.get(key, 0)
            if row.opening_cents + service_moved.get(key, 0) != row.closing_cents:
                mismatched.append(row.commune.name if row.commune else str(key))
        rows.append(row)
    total = FlowRow(commune=None)
    for row in rows:
        for column in COLUMNS:
            setattr(total, column, getattr(total, column) + getattr(row, column))
    total.opening_cents, total.closing_cents = opening, closing
    cached: int | None = None
    if end > now:
        cached = (
            Account.objects.filter(kind__in=POCKET_KINDS).aggregate(s=Sum("balance_cents"))["s"]
            or 0
        )
    unbalanced = list(
        LedgerTransaction.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(sum=Sum("postings__amount_cents"))
        .filter(~Q(sum=0) | Q(sum__isnull=True))
        .values_list("source_key", flat=True)[:20]
    )
    return MoneyFlows(
        start=start,
        end=end,
        rows=rows,
        total=total,
        opening_cents=opening,
        closing_cents=closing,
        cached_cents=cached,
        unbalanced=unbalanced,
        mismatched=mismatched,
    )
