"""What staff may see of families: only those that asked this commune for a service."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Min, Q
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.common.exports import Sheet
from shared_apps.wallet.models import POCKET_KINDS, AccountKind, Posting, TransactionKind
from shared_apps.wallet.selectors import commune_postings
from tenant_apps.backoffice.models import DayClosing, PaymentMethod, Receipt
from tenant_apps.catalog.models import Service
from tenant_apps.enrollments.models import AccessRequest

COUNTER_METHOD_LABELS = dict(PaymentMethod.choices)


def known_families() -> list[tuple[int, str]]:
    """(family_id, "Name (e-mail)") of the families that sent this commune a request."""
    firsts = (
        AccessRequest.objects.values("family_id").annotate(first_pk=Min("pk")).order_by("family_id")
    )
    submitters = dict(
        AccessRequest.objects.filter(pk__in=[row["first_pk"] for row in firsts]).values_list(
            "family_id", "submitted_by_id"
        )
    )
    users = User.objects.in_bulk(list(submitters.values()))
    rows = [
        (family_id, f"{users[uid].get_full_name()} ({users[uid].email})")
        for family_id, uid in submitters.items()
        if uid in users
    ]
    return sorted(rows, key=lambda row: row[1].lower())


def family_is_known(family_id: int) -> bool:
    return AccessRequest.objects.filter(family_id=family_id).exists()


def family_names(family_ids: Iterable[int]) -> dict[int, str]:
    """{family_id: the full name of who first asked this commune} for the families known here
    (two queries whatever the count); families unknown here are left out."""
    ids = set(family_ids)
    if not ids:
        return {}
    firsts = (
        AccessRequest.objects.filter(family_id__in=ids)
        .values("family_id")
        .annotate(first_pk=Min("pk"))
        .values_list("first_pk", flat=True)
    )
    rows = AccessRequest.objects.filter(pk__in=list(firsts)).values_list(
        "family_id", "submitted_by__first_name", "submitted_by__last_name", "submitted_by__email"
    )
    return {family_id: f"{first} {last}".strip() or email for family_id, first, last, email in rows}


# --- the régie: daily journal ----------------------------------------------------------------


@dataclass
class AgentTakings:
    """One agent's counter payments of a day, per method (cents), and their closing if any."""

    agent_id: int
    agent_name: str
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PaymentMethod.values, 0))
    count: int = 0
    closing: DayClosing | None = None

    @property
    def total_cents(self) -> int:
        return sum(self.totals.values())

    @property
    def by_method(self) -> list[tuple[str, str, int]]:
        """(method, its French label, cents) in the journal's column order."""
        return [(method, label, self.totals[method]) for method, label in PaymentMethod.choices]


@dataclass
class CashJournal:
    """A day of the régie: every receipt, each agent's takings, the day's totals and closings."""

    day: datetime.date
    receipts: list[Receipt]
    agents: list[AgentTakings]
    totals: dict[str, int]
    day_closing: DayClosing | None  # the whole régie's, by a manager

    @property
    def total_cents(self) -> int:
        return sum(self.totals.values())

    @property
    def count(self) -> int:
        return len(self.receipts)

    @property
    def by_method(self) -> list[tuple[str, str, int]]:
        """(method, its French label, cents) in the journal's column order."""
        return [(method, label, self.totals[method]) for method, label in PaymentMethod.choices]

    def closing_for(self, agent_id: int) -> DayClosing | None:
        """What stops `agent_id` from taking payments this day: the régie's or their closing."""
        if self.day_closing is not None:
            return self.day_closing
        return next((a.closing for a in self.agents if a.agent_id == agent_id), None)


def cash_journal(day: datetime.date) -> CashJournal:
    """The day's journal: two queries (receipts, closings) whatever the number of payments."""
    receipts = list(Receipt.objects.filter(day=day).order_by("sequence"))
    closings = list(DayClosing.objects.filter(day=day))
    agents: dict[int, AgentTakings] = {}
    totals = dict.fromkeys(PaymentMethod.values, 0)
    for receipt in receipts:
        takings = agents.setdefault(
            receipt.agent_id, AgentTakings(receipt.agent_id, receipt.agent_name)
        )
        takings.totals[receipt.method] += receipt.amount_cents
        takings.count += 1
        totals[receipt.method] += receipt.amount_cents
    day_closing = None
    for closing in closings:
        if closing.agent_id is None:
            day_closing = closing
        else:
            agents.setdefault(
                closing.agent_id, AgentTakings(closing.agent_id, closing.agent_name)
            ).closing = closing
    ordered = sorted(agents.values(), key=lambda a: a.agent_name.lower())
    return CashJournal(day, receipts, ordered, totals, day_closing)


def closing_for_agent(day: datetime.date, agent_id: int) -> DayClosing | None:
    """The closing that stops `agent_id` from taking payments on `day`: the whole régie's
    (a manager's) or their own; None while their till is open."""
    return (
        DayClosing.objects.filter(day=day)
        .filter(Q(agent_id=agent_id) | Q(agent__isnull=True))
        .order_by("agent_id")
        .first()
    )


def receipt_for_staff(receipt_id: int) -> Receipt | None:
    """A receipt of this commune (the schema of the request), or None."""
    return Receipt.objects.filter(pk=receipt_id).first()


# --- the accountant's exports ------------------------------------------------------------------

COUNTER_OR_CARD = (AccountKind.COUNTER, AccountKind.CARD_CLEARING)
PAYMENT_KINDS = (TransactionKind.COUNTER_CREDIT, TransactionKind.TOP_UP, TransactionKind.SPEND)
MONEY_HEADER = "Montant (€)"


def euros(cents: int) -> Decimal:
    """Cents as a Decimal of euros (a number in the XLSX, "15,50" in the CSV)."""
    return Decimal(cents).scaleb(-2)


@dataclass
class Accounting:
    """The accountant's tables for a period, each ending with its total row; the totals, in
    cents, are sums of ledger postings (see `accounting`)."""

    start: datetime.date
    end: datetime.date
    sheets: dict[str, Sheet]
    totals: dict[str, int]


def _period(
    start: datetime.date, end: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """[start 00:00, the day after end 00:00) in the commune's time (Europe/Paris)."""
    tz = timezone.get_current_timezone()
    first = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    after = datetime.datetime.combine(
        end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz
    )
    return first, after


def accounting(*, commune_id: int, start: datetime.date, end: datetime.date) -> Accounting:
    """Payments, refunds, wallet movements and revenue per service of this commune, for the days
    from `start` to `end` included, computed from the ledger's postings only:

    - payments ("paiements"): money in from outside, the opposite of each posting on a counter
      or card-clearing account in a counter payment, a card top-up of this commune's pockets or
      a card payment of bookings;
    - refunds ("remboursements"): to a pocket (the opposite of the revenue posting), to a card
      (the card-clearing posting; a refund the provider refused counts back negative);
    - wallet movements ("mouvements"): every posting on a family's pocket in this commune's
      transactions, signed as the family sees it;
    - revenue per service ("recettes"): the service revenue accounts' postings, earned, refunded
      and net.
    A constant number of queries (postings, receipts, services, family names).
    """
    first, after = _period(start, end)
    postings = list(commune_postings(commune_id, first, after))
    transaction_ids = {p.transaction_id for p in postings}
    receipts = dict(
        Receipt.objects.filter(ledger_transaction_id__in=transaction_ids).values_list(
            "ledger_transaction_id", "number"
        )
    )
    services = dict(Service.objects.values_list("pk", "name"))
    wallets = {p.transaction.wallet.family_id for p in postings if p.transaction.wallet}
    names = family_names(wallets)

    def family(posting: Posting) -> str:
        wallet = posting.transaction.wallet
        if wallet is None:
            return ""
        return names.get(wallet.family_id, f"Famille n° {wallet.family_id}")

    def service(posting: Posting) -> str:
        service_id = posting.transaction.service_id or posting.account.service_id
        if not service_id:
            return "Tous les services"
        return services.get(service_id, f"Service n° {service_id}")

    def when(posting: Posting) -> str:
        return timezone.localtime(posting.transaction.created_at).strftime("%d/%m/%Y %H:%M")

    payments, refunds, movements = [], [], []
    totals = dict.fromkeys(("payments", "refunds", "movements", "revenue"), 0)
    revenue: dict[int, list[int]] = {}
    for posting in postings:
        ledger_transaction = posting.transaction
        kind = posting.account.kind
        amount = posting.amount_cents
        metadata = ledger_transaction.metadata or {}
        if kind in COUNTER_OR_CARD and ledger_transaction.kind in PAYMENT_KINDS:
            method = (
                COUNTER_METHOD_LABELS.get(metadata.get("method", ""), "Guichet")
                if kind == AccountKind.COUNTER
                else "Carte bancaire"
            )
            payments.append(
                [
                    when(posting),
                    ledger_transaction.get_kind_display(),
                    method,
                    family(posting),
                    service(posting),
                    metadata.get("reference", ""),
                    receipts.get(ledger_transaction.pk, ""),
                    euros(-amount),
                ]
            )
            totals["payments"] -= amount
        elif (
            ledger_transaction.kind == TransactionKind.REFUND and kind == AccountKind.REVENUE
        ) or (
            ledger_transaction.kind == TransactionKind.CARD_REFUND
            and kind == AccountKind.CARD_CLEARING
        ):
            to_card = kind == AccountKind.CARD_CLEARING
            refunded = amount if to_card else -amount
            refunds.append(
                [
                    when(posting),
                    "Carte bancaire" if to_card else "Porte-monnaie",
                    family(posting),
                    service(posting),
                    ledger_transaction.description,
                    euros(refunded),
                ]
            )
            totals["refunds"] += refunded
        if kind in POCKET_KINDS:
            movements.append(
                [
                    when(posting),
                    family(posting),
                    "Tous les services" if kind == AccountKind.GENERAL_POCKET else service(posting),
                    ledger_transaction.get_kind_display(),
                    ledger_transaction.description,
                    euros(amount),
                ]
            )
            totals["movements"] += amount
        if kind == AccountKind.REVENUE and posting.account.commune_id == commune_id:
            earned = revenue.setdefault(posting.account.service_id or 0, [0, 0])
            earned[0 if amount > 0 else 1] += amount
            totals["revenue"] += amount
    revenue_rows = [
        [services.get(sid, f"Service n° {sid}"), euros(inc), euros(-out), euros(inc + out)]
        for sid, (inc, out) in sorted(revenue.items(), key=lambda i: services.get(i[0], ""))
    ]
    revenue_in = sum(inc for inc, _ in revenue.values())
    revenue_out = sum(out for _, out in revenue.values())
    sheets = {
        "paiements": Sheet(
            "Paiements",
            [
                "Date",
                "Opération",
                "Mode",
                "Famille",
                "Service",
                "Référence",
                "N° de reçu",
                MONEY_HEADER,
            ],
            [*payments, ["Total", "", "", "", "", "", "", euros(totals["payments"])]],
        ),
        "remboursements": Sheet(
            "Remboursements",
            ["Date", "Vers", "Famille", "Service", "Libellé", MONEY_HEADER],
            [*refunds, ["Total", "", "", "", "", euros(totals["refunds"])]],
        ),
        "mouvements": Sheet(
            "Mouvements des porte-monnaie",
            ["Date", "Famille", "Porte-monnaie", "Opération", "Libellé", MONEY_HEADER],
            [*movements, ["Total", "", "", "", "", euros(totals["movements"])]],
        ),
        "recettes": Sheet(
            "Recettes par service",
            ["Service", "Encaissé (€)", "Remboursé (€)", "Net (€)"],
            [
                *revenue_rows,
                ["Total", euros(revenue_in), euros(-revenue_out), euros(totals["revenue"])],
            ],
        ),
    }
    return Accounting(start, end, sheets, totals)
