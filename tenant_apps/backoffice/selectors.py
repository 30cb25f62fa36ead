"""What staff may see of families: only those that asked this commune for a service, and of
them only the children named in those requests (ARCHITECTURE.md, RGPD)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.common.exports import Sheet
from shared_apps.common.validation import parse_id
from shared_apps.families.models import Child, Family, Guardian
from shared_apps.families.selectors import standing_booking_consent
from shared_apps.wallet.models import POCKET_KINDS, Account, AccountKind, Posting, TransactionKind
from shared_apps.wallet.selectors import GENERAL_LABEL, commune_postings
from shared_apps.wallet.services import general_credit_allowed
from tenant_apps.backoffice.models import DayClosing, PaymentMethod, Receipt
from tenant_apps.bookings.models import Order, Reservation, ReservationStatus
from tenant_apps.catalog.models import Service
from tenant_apps.enrollments.models import AccessRequest, AccessRequestChild, Document, Enrollment

if TYPE_CHECKING:
    from tenants.models import Commune

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
    """Whether the family sent this commune a request (staff may then see its file)."""
    return AccessRequest.objects.filter(family_id=family_id).exists()


# --- The family file ("fiche famille") ---------------------------------------------------------

SEARCH_PAGE_SIZE = 25
MAX_SEARCH_LENGTH = 100
MAX_SEARCH_TERMS = 5
FILE_ROWS = 20  # bookings, attendance and wallet movements shown on the family page, each


def search_terms(q: str | None) -> list[str]:
    """The words of a search ("Martin Léa", "martin@exemple.fr"): at most MAX_SEARCH_TERMS
    words of the first MAX_SEARCH_LENGTH characters."""
    return (q or "")[:MAX_SEARCH_LENGTH].split()[:MAX_SEARCH_TERMS]


def named_children_ids() -> QuerySet:
    """Ids of the children named in this commune's requests (a subquery)."""
    return AccessRequestChild.objects.values("child_id")


def search_families(q: str | None) -> QuerySet[Family]:
    """The families known here (they sent this commune a request) matching every word of `q`
    in a guardian's first name, last name or e-mail, or in the name of a child NAMED in this
    commune's requests (another child of the family is never searched: its existence is none
    of this commune's business). Empty `q`: every known family. Sorted by the first guardian's
    last name. One query (plus the paginator's count)."""
    families = Family.objects.filter(pk__in=AccessRequest.objects.values("family_id"))
    for term in search_terms(q):
        guardian = Guardian.objects.filter(family=OuterRef("pk")).filter(
            Q(user__first_name__icontains=term)
            | Q(user__last_name__icontains=term)
            | Q(user__email__icontains=term)
        )
        child = Child.objects.filter(family=OuterRef("pk"), pk__in=named_children_ids()).filter(
            Q(first_name__icontains=term) | Q(last_name__icontains=term)
        )
        families = families.filter(Exists(guardian) | Exists(child))
    first_guardian = Guardian.objects.filter(family=OuterRef("pk")).order_by("joined_at", "pk")
    return families.annotate(
        sort_last=Lower(Subquery(first_guardian.values("user__last_name")[:1])),
        sort_first=Lower(Subquery(first_guardian.values("user__first_name")[:1])),
    ).order_by(F("sort_last").asc(nulls_last=True), "sort_first", "pk")


@dataclass
class FamilyRow:
    family_id: int
    guardians: list[Guardian]
    children: list[Child]
    requests: list[AccessRequest]


def family_rows(family_ids: list[int]) -> list[FamilyRow]:
    """For a page of search results: each family's guardians, children named here and
    requests here. Three queries whatever the number of families."""
    guardians: dict[int, list[Guardian]] = defaultdict(list)
    for guardian in (
        Guardian.objects.filter(family_id__in=family_ids)
        .select_related("user")
        .order_by("joined_at", "pk")
    ):
        guardians[guardian.family_id].append(guardian)
    requests: dict[int, list[AccessRequest]] = defaultdict(list)
    for access_request in (
        AccessRequest.objects.filter(family_id__in=family_ids)
        .select_related("service")
        .order_by("-created_at", "-pk")
    ):
        requests[access_request.family_id].append(access_request)
    children = _named_children(family_ids)
    return [
        FamilyRow(family_id, guardians[family_id], children[family_id], requests[family_id])
        for family_id in family_ids
    ]


def _named_children(family_ids: list[int]) -> dict[int, list[Child]]:
    """{family_id: [child, …]}: the children named in this commune's requests of each family
    that are still that family's (one query)."""
    found: dict[int, dict[int, Child]] = defaultdict(dict)
    rows = AccessRequestChild.objects.filter(
        access_request__family_id__in=family_ids
    ).select_related("child", "access_request")
    for row in rows:
        child = row.child
        if child is not None and child.family_id == row.access_request.family_id:
            found[child.family_id][child.pk] = child
    return {
        family_id: sorted(
            children.values(), key=lambda c: (c.first_name.lower(), c.last_name.lower(), c.pk)
        )
        for family_id, children in found.items()
    } | {family_id: [] for family_id in family_ids if family_id not in found}


@dataclass(frozen=True)
class Pocket:
    label: str
    balance_cents: int
    general: bool


@dataclass
class FamilyFile:
    family_id: int
    guardians: list[Guardian]
    children: list[Child]
    requests: list[AccessRequest]
    documents: list[Document]
    upcoming: list[Reservation]
    past: list[Reservation]
    attendance_counts: dict[str, int]
    attendance: list[Reservation]
    pockets: list[Pocket]
    movements: list[Posting]
    enrolled: dict[int, list[Service]]  # child_id -> services the child is enrolled in here
    consent_at: datetime.datetime | None
    consent_notes: list[Order] = field(default_factory=list)
    bookers: dict[int, User] = field(default_factory=dict)

    @property
    def available_cents(self) -> int:
        return sum(p.balance_cents for p in self.pockets)


def family_file(family_id: int, *, commune: Commune, today: datetime.date) -> FamilyFile | None:
    """What this commune's staff may see of a family, or None if the family is not known here
    (never sent this commune a request): guardians (name, e-mail, phone); the children named in
    this commune's requests only; requests and current documents; bookings here (upcoming and
    recent, FILE_ROWS each, with who booked); attendance (counts and the last FILE_ROWS marked);
    the wallet pockets usable here (this commune's services' pockets, plus "tous services" if
    the commune accepts general credit) and their movements for this commune's services only;
    the standing consent for booking on the family's behalf and the last notes of consent
    recorded by agents. A constant number of queries (about fifteen) whatever the rows."""
    if parse_id(family_id) is None or not family_is_known(family_id):
        return None
    guardians = list(
        Guardian.objects.filter(family_id=family_id)
        .select_related("user")
        .order_by("joined_at", "pk")
    )
    requests = list(
        AccessRequest.objects.filter(family_id=family_id)
        .select_related("service")
        .prefetch_related("request_children")
        .order_by("-created_at", "-pk")
    )
    children = _named_children([family_id])[family_id]
    named = {c.pk: c for c in children}
    for access_request in requests:
        access_request.named_children = [  # type: ignore[attr-defined]
            named[row.child_id]
            for row in access_request.request_children.all()
            if row.child_id in named
        ]
    documents = list(
        Document.objects.filter(access_request__family_id=family_id, replaced_at__isnull=True)
        .select_related("document_type", "access_request__service")
        .order_by("access_request__service__name", "document_type__label", "pk")
    )
    reservations = Reservation.objects.filter(family_id=family_id).select_related(
        "product", "variant", "order", "child"
    )
    upcoming = list(
        reservations.filter(date__gte=today).order_by("date", "child_id", "pk")[:FILE_ROWS]
    )
    past = list(
        reservations.filter(date__lt=today).order_by("-date", "child_id", "-pk")[:FILE_ROWS]
    )
    counts = dict(
        Reservation.objects.filter(
            family_id=family_id,
            status__in=[ReservationStatus.ATTENDED, ReservationStatus.ABSENT],
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    attendance = list(
        reservations.filter(
            status__in=[ReservationStatus.ATTENDED, ReservationStatus.ABSENT]
        ).order_by("-date", "child_id", "-pk")[:FILE_ROWS]
    )
    bookers = User.objects.in_bulk(
        {r.order.placed_by_id for r in (*upcoming, *past, *attendance)} - {None}
    )
    pockets, movements = _wallet_here(family_id, commune)
    enrolled: dict[int, list[Service]] = defaultdict(list)
    for enrollment in (
        Enrollment.objects.filter(family_id=family_id, child_id__in=list(named))
        .select_related("service")
        .order_by("service__name")
    ):
        enrolled[enrollment.child_id].append(enrollment.service)
    consent_notes = list(
        Order.objects.filter(family_id=family_id, on_behalf=True)
        .exclude(consent_note="")
        .order_by("-created_at", "-pk")[:5]
    )
    bookers |= User.objects.in_bulk({o.placed_by_id for o in consent_notes} - set(bookers))
    for order in [r.order for r in (*upcoming, *past, *attendance)] + consent_notes:
        booker = bookers.get(order.placed_by_id)
        order.booker_name = booker.get_full_name() if booker else ""  # type: ignore[attr-defined]
    return FamilyFile(
        family_id=family_id,
        guardians=guardians,
        children=children,
        requests=requests,
        documents=documents,
        upcoming=upcoming,
        past=past,
        attendance_counts={
            "attended": counts.get(ReservationStatus.ATTENDED, 0),
            "absent": counts.get(ReservationStatus.ABSENT, 0),
        },
        attendance=attendance,
        pockets=pockets,
        movements=movements,
        enrolled=dict(enrolled),
        consent_at=standing_booking_consent(family_id, commune.pk),
        consent_notes=consent_notes,
        bookers=bookers,
    )


def _wallet_here(family_id: int, commune: Commune) -> tuple[list[Pocket], list[Posting]]:
    """The family's pockets usable in this commune (its services' pockets, and "tous services"
    if the commune accepts general credit), and the last FILE_ROWS movements of its pockets
    made for this commune (a payment, refund or counter credit here; never what it did in
    another commune, nor its top-ups of "tous services"). Three queries."""
    general_allowed = general_credit_allowed(commune)
    scope = Q(kind=AccountKind.SERVICE_POCKET, commune=commune)
    if general_allowed:
        scope |= Q(kind=AccountKind.GENERAL_POCKET)
    accounts = list(
        Account.objects.filter(scope, wallet__family_id=family_id).order_by("kind", "service_id")
    )
    names = dict(Service.objects.values_list("pk", "name"))
    pockets = [
        Pocket(
            label=GENERAL_LABEL
            if account.kind == AccountKind.GENERAL_POCKET
            else names.get(account.service_id or 0, "Service supprimé"),
            balance_cents=account.balance_cents,
            general=account.kind == AccountKind.GENERAL_POCKET,
        )
        for account in accounts
    ]
    if general_allowed and not any(p.general for p in pockets):
        pockets.append(Pocket(GENERAL_LABEL, 0, True))
    pockets.sort(key=lambda p: (p.general, p.label.lower()))
    movements = list(
        Posting.objects.filter(
            account__wallet__family_id=family_id,
            account__kind__in=POCKET_KINDS,
            transaction__commune=commune,
        )
        .select_related("transaction", "account")
        .order_by("-transaction__created_at", "-pk")[:FILE_ROWS]
    )
    for posting in movements:
        account = posting.account
        posting.pocket_label = (  # type: ignore[attr-defined]
            GENERAL_LABEL
            if account.kind == AccountKind.GENERAL_POCKET
            else names.get(account.service_id or 0, "Service supprimé")
        )
    return pockets, movements


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
