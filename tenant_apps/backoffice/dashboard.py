"""The staff dashboard's figures for one commune: reads, a fixed number of queries, audited.

Every figure is computed in the database (counts, sums, a few latest rows), so the number of
queries does not depend on the number of families, requests or bookings (pinned in
tests/backoffice/test_dashboard_queries.py). Runs on the commune's schema: its requests,
bookings and services; wallet pockets (public schema) are those of this commune's services,
among the families known here (those that sent this commune a request).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.audit.services import record
from shared_apps.families.models import Guardian
from shared_apps.wallet.models import Account, AccountKind
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    PaymentChoice,
    Reservation,
    ReservationStatus,
)
from tenant_apps.bookings.rules import UNPUBLISHED, DayAvailability, availability
from tenant_apps.catalog.models import Closure, DocumentType, Product, Service
from tenant_apps.enrollments.models import AccessRequest, Document, RequestStatus
from tenants.calendar import BeyondSchoolCalendar, CommuneCalendar, commune_calendar
from tenants.models import Commune
from tenants.services import assert_on_schema

CANCELLATION_DAYS = 7  # "recent cancellations": the last 7 days, today included
LATEST_CANCELLATIONS = 5
LOWEST_BALANCES = 5
NO_VARIANT = "Sans précision"


@dataclass(frozen=True)
class VariantCount:
    name: str
    count: int


@dataclass(frozen=True)
class ProductDay:
    """A product on one day: open or not (and why not, in French), places booked, split by meal
    variant."""

    product_id: int
    product: str
    service: str
    open: bool
    closed_reason: str
    booked: int
    capacity: int | None
    variants: list[VariantCount]


@dataclass(frozen=True)
class DayFigures:
    date: datetime.date
    label: str  # "Aujourd’hui", "Demain"
    products: list[ProductDay]

    @property
    def booked(self) -> int:
        return sum(p.booked for p in self.products)


@dataclass(frozen=True)
class Cancellation:
    reservation_id: int
    family_id: int
    child: str
    product: str
    date: datetime.date
    cancelled_at: datetime.datetime
    refund_cents: int


@dataclass(frozen=True)
class LowBalance:
    family_id: int
    family: str  # the guardians' names
    service: str
    balance_cents: int
    threshold_cents: int


@dataclass
class Dashboard:
    today: datetime.date
    days: list[DayFigures]
    pending_requests: int
    oldest_pending_at: datetime.datetime | None
    info_requested: int
    missing_documents: int
    cancellations: int
    latest_cancellations: list[Cancellation]
    low_balances: int
    lowest_balances: list[LowBalance]
    direct_debit_items: int
    direct_debit_cents: int
    variants_in_use: bool = field(default=False)

    @property
    def oldest_pending_days(self) -> int | None:
        """Whole days the oldest waiting request has waited (0: sent today), or None."""
        if self.oldest_pending_at is None:
            return None
        return (self.today - timezone.localdate(self.oldest_pending_at)).days


def _days(today: datetime.date, calendar: CommuneCalendar) -> list[DayFigures]:
    """Today's and tomorrow's booked places per active product, and whether it runs that day
    by the booking rules (weekdays, public and school holidays, closures) (3 queries)."""
    tomorrow = today + datetime.timedelta(days=1)
    products = list(
        Product.objects.filter(is_active=True, service__is_active=True)
        .select_related("service")
        .order_by("service__name", "name", "pk")
    )
    closures: dict[int, dict[datetime.date, str]] = {}
    for service_id, day, reason in Closure.objects.filter(date__in=[today, tomorrow]).values_list(
        "service_id", "date", "reason"
    ):
        closures.setdefault(service_id, {})[day] = reason
    counts: dict[tuple[datetime.date, int], dict[str, int]] = {}
    rows = (
        Reservation.objects.filter(date__in=[today, tomorrow], status__in=LIVE_STATUSES)
        .values("date", "product_id", "variant__name")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        per_variant = counts.setdefault((row["date"], row["product_id"]), {})
        name = row["variant__name"] or NO_VARIANT
        per_variant[name] = per_variant.get(name, 0) + row["n"]
    days = []
    for day, label in ((today, "Aujourd’hui"), (tomorrow, "Demain")):
        entries = []
        for product in products:
            per_variant = counts.get((day, product.pk), {})
            try:
                state = availability(
                    day,
                    weekdays=product.weekdays or [],
                    opening_period=product.opening_period,
                    calendar=calendar,
                    closures=closures.get(product.service_id, {}),
                )
            except BeyondSchoolCalendar:
                state = DayAvailability(False, UNPUBLISHED)
            variants = [
                VariantCount(name, n)
                for name, n in sorted(
                    per_variant.items(), key=lambda kv: (kv[0] == NO_VARIANT, kv[0])
                )
            ]
            entries.append(
                ProductDay(
                    product_id=product.pk,
                    product=product.name,
                    service=product.service.name,
                    open=state.open,
                    closed_reason=state.reason,
                    booked=sum(per_variant.values()),
                    capacity=product.daily_capacity,
                    variants=variants if any(v.name != NO_VARIANT for v in variants) else [],
                )
            )
        days.append(DayFigures(date=day, label=label, products=entries))
    return days


def _requests() -> dict:
    """Waiting requests, the oldest one's date, and those missing documents (1 query).

    Missing documents: a request waiting for the family's answer ("informations demandées"),
    or a submitted one lacking a current file for a document type its service requires.
    """
    current_file = Document.objects.filter(
        access_request_id=OuterRef(OuterRef("pk")),
        document_type_id=OuterRef("pk"),
        replaced_at__isnull=True,
    )
    lacks_required = DocumentType.objects.filter(
        service_id=OuterRef("service_id"), required=True
    ).exclude(Exists(current_file))
    waiting = (RequestStatus.SUBMITTED, RequestStatus.INFO_REQUESTED)
    return (
        AccessRequest.objects.filter(status__in=waiting)
        .annotate(lacks=Exists(lacks_required))
        .aggregate(
            pending=Count("pk", filter=Q(status=RequestStatus.SUBMITTED)),
            oldest=Min("created_at", filter=Q(status=RequestStatus.SUBMITTED)),
            info=Count("pk", filter=Q(status=RequestStatus.INFO_REQUESTED)),
            missing=Count(
                "pk",
                filter=Q(status=RequestStatus.INFO_REQUESTED)
                | Q(status=RequestStatus.SUBMITTED, lacks=True),
            ),
        )
    )


def _cancellations(today: datetime.date) -> tuple[int, list[Cancellation]]:
    """Places cancelled in the last `CANCELLATION_DAYS` days: how many, and the latest (2)."""
    since = timezone.make_aware(
        datetime.datetime.combine(
            today - datetime.timedelta(days=CANCELLATION_DAYS - 1), datetime.time.min
        )
    )
    recent = Reservation.objects.filter(status=ReservationStatus.CANCELLED, cancelled_at__gte=since)
    count = recent.count()
    latest = [
        Cancellation(
            reservation_id=r.pk,
            family_id=r.family_id,
            child=f"{r.child.first_name} {r.child.last_name}",
            product=r.product.name,
            date=r.date,
            cancelled_at=r.cancelled_at,
            refund_cents=r.refund_cents,
        )
        for r in recent.select_related("child", "product").order_by("-cancelled_at", "-pk")[
            :LATEST_CANCELLATIONS
        ]
        if r.cancelled_at is not None
    ]
    return count, latest


def _low_balances(commune: Commune) -> tuple[int, list[LowBalance]]:
    """Pockets of this commune's services below the service's alert threshold, among the
    families known here (3 queries: count, the lowest few, their guardians).

    A family that never had a pocket for the service (no money ever moved) is not counted:
    it pays otherwise (card, direct debit) or has not started."""
    threshold = Subquery(
        Service.objects.filter(pk=OuterRef("service_id")).values("low_balance_threshold_cents")[:1],
        output_field=IntegerField(),
    )
    service_name = Subquery(Service.objects.filter(pk=OuterRef("service_id")).values("name")[:1])
    pockets = (
        Account.objects.filter(
            kind=AccountKind.SERVICE_POCKET,
            commune=commune,
            wallet__family_id__in=AccessRequest.objects.values("family_id"),
        )
        .annotate(threshold=threshold)
        .filter(threshold__isnull=False, balance_cents__lt=threshold)
    )
    count = pockets.count()
    lowest = list(
        pockets.annotate(service_name=service_name)
        .values("wallet__family_id", "service_name", "balance_cents", "threshold")
        .order_by("balance_cents", "pk")[:LOWEST_BALANCES]
    )
    names: dict[int, list[str]] = {}
    for guardian in (
        Guardian.objects.filter(family_id__in=[row["wallet__family_id"] for row in lowest])
        .select_related("user")
        .order_by("joined_at", "pk")
    ):
        names.setdefault(guardian.family_id, []).append(guardian.user.get_full_name())
    return count, [
        LowBalance(
            family_id=row["wallet__family_id"],
            family=" et ".join(names.get(row["wallet__family_id"], [])) or "Famille",
            service=row["service_name"] or "",
            balance_cents=row["balance_cents"],
            threshold_cents=row["threshold"],
        )
        for row in lowest
    ]


def _direct_debit() -> dict:
    """Places to be paid by direct debit, not cancelled: billing (a later issue) will invoice
    and collect them; until then they are all "à facturer" (1 query)."""
    return Reservation.objects.filter(
        paid_by=PaymentChoice.DIRECT_DEBIT, status__in=LIVE_STATUSES
    ).aggregate(items=Count("pk"), cents=Sum("price_cents"))


def dashboard(*, commune: Commune, today: datetime.date | None = None) -> Dashboard:
    """All the dashboard's figures for `commune` (the connection must be on its schema).

    Input: the commune, and the day (default: today in Europe/Paris). Output: a Dashboard.
    10 queries whatever the amount of data. Raises WrongSchema on another schema.
    """
    assert_on_schema(commune)
    today = today or timezone.localdate()
    days = _days(today, commune_calendar(commune))
    requests = _requests()
    cancellations, latest = _cancellations(today)
    low_count, lowest = _low_balances(commune)
    debit = _direct_debit()
    return Dashboard(
        today=today,
        days=days,
        pending_requests=requests["pending"],
        oldest_pending_at=requests["oldest"],
        info_requested=requests["info"],
        missing_documents=requests["missing"],
        cancellations=cancellations,
        latest_cancellations=latest,
        low_balances=low_count,
        lowest_balances=lowest,
        direct_debit_items=debit["items"],
        direct_debit_cents=debit["cents"] or 0,
        variants_in_use=any(p.variants for d in days for p in d.products),
    )


def record_dashboard_view(*, viewed_by: User, commune: Commune, figures: Dashboard) -> None:
    """The dashboard's one write: it names the children of the latest cancellations and the
    families with a low balance (family data), so each view is audited with the families shown."""
    record(
        actor=viewed_by,
        commune=commune,
        action="dashboard.view",
        target_type="day",
        target_id=figures.today.isoformat(),
        details={
            "families": sorted(
                {c.family_id for c in figures.latest_cancellations}
                | {b.family_id for b in figures.lowest_balances}
            )
        },
    )
