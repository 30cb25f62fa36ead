"""Reads for booking pages and API: calendars, reservations (in one commune or in every commune
of the family), headcounts; constant queries. Functions that need the commune's calendar take
the `commune`; the prices and refunds they show come from `rules.py`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.families.models import Child
from shared_apps.families.selectors import communes_of_family, family_id_of
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import general_credit_allowed
from tenant_apps.bookings import rules, settlement
from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.models import LIVE_STATUSES, Cart, CartItem, DayCount, Reservation
from tenant_apps.catalog.models import Closure, Product, Service
from tenant_apps.enrollments.models import Enrollment
from tenants.calendar import commune_calendar

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


@dataclass(frozen=True)
class CalendarDay:
    date: datetime.date
    status: str  # bookable | booked | in_cart | closed | deadline_passed | full
    # What this child pays for the day: its quotient familial price, reduced when a sibling
    # already holds the day (booked or in the cart); what it paid once booked.
    price_cents: int | None
    deadline: datetime.datetime | None
    reason: str = ""  # why a closed day is closed: "Vacances de Noël", "Jour férié (…)", …


def calendar(
    *,
    commune: Commune,
    user: User,
    product: Product,
    child_id: int,
    start: datetime.date,
    end: datetime.date,
    now: datetime.datetime | None = None,
) -> list[CalendarDay]:
    """Each day's state for one child and product, from `start` to `end` inclusive."""
    now = now or timezone.now()
    family_id = family_id_of(user)
    days = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
    context = BookingContext.load(product, family_id, days, commune=commune)
    # The family's holdings decide this child's price (the sibling reduction): one query each.
    # No family (None) matches no row.
    held = Reservation.objects.filter(  # type: ignore[misc]
        product=product, family_id=family_id, date__range=(start, end), status__in=LIVE_STATUSES
    ).values_list("child_id", "date", "price_cents")
    booked = {day: price for child, day, price in held if child == child_id}
    siblings_holding = {day for child, day, _ in held if child != child_id}
    # No family (None) matches no row.
    carted = CartItem.objects.filter(  # type: ignore[misc]
        cart__family_id=family_id, product=product, date__range=(start, end)
    ).values_list("child_id", "date", "price_cents")
    in_cart = {day: price for child, day, price in carted if child == child_id}
    siblings_holding |= {day for child, day, _ in carted if child != child_id}
    full, sibling = context.prices()
    counts = (
        dict(
            DayCount.objects.filter(product=product, date__range=(start, end)).values_list(
                "date", "booked"
            )
        )
        if product.daily_capacity is not None
        else {}
    )
    result = []
    deadline: datetime.datetime | None  # None on a closed day
    price: int | None
    for day in days:
        deadline = context.booking_deadline(day)
        available = context.availability(day)
        price = sibling if day in siblings_holding else full
        if day in booked:
            status, price = "booked", booked[day]
        elif not available.open:
            status, deadline, price = "closed", None, None
        elif day in in_cart:
            status, price = "in_cart", in_cart[day]
        elif now >= deadline:
            status = "deadline_passed"
        elif product.daily_capacity is not None and counts.get(day, 0) >= product.daily_capacity:
            status = "full"
        else:
            status = "bookable"
        reason = available.reason if status == "closed" else ""
        result.append(CalendarDay(day, status, price, deadline, reason))
    return result


def day_prices(*, commune: Commune, user: User, product: Product) -> tuple[int, int]:
    """(full, sibling) price per day of `product` for the user's family, in cents: its quotient
    familial price for the first child holding a day, the sibling price for each other one."""
    context = BookingContext.load(
        product, family_id_of(user), [timezone.localdate()], commune=commune
    )
    return context.prices()


def enrolled_children(user: User, service_id: int) -> list[Child]:
    family_id = family_id_of(user)
    # No family (None) matches no row.
    ids = Enrollment.objects.filter(service_id=service_id, family_id=family_id).values_list(  # type: ignore[misc]
        "child_id", flat=True
    )
    return list(
        Child.objects.filter(pk__in=list(ids), removed_at__isnull=True).order_by("birth_date")
    )


def cart_of(user: User) -> tuple[Cart | None, list[CartItem]]:
    family_id = family_id_of(user)
    # No family (None) matches no row.
    cart = Cart.objects.filter(family_id=family_id).first()  # type: ignore[misc]
    if cart is None or cart.expires_at <= timezone.now():
        return cart, []
    items = list(
        cart.items.select_related("product__service", "child", "variant").order_by(
            "date", "child__first_name", "product__name"
        )
    )
    return cart, items


def services_of_items(items: Iterable[CartItem]) -> list[Service]:
    """The distinct services of cart items (their products' services already loaded)."""
    return list({item.product.service_id: item.product.service for item in items}.values())


def cart_items(*, ids: list[int]) -> list[CartItem]:
    return list(
        CartItem.objects.filter(pk__in=ids)
        .select_related("product", "child", "variant")
        .order_by("date", "child_id", "product_id")
    )


def reservations_of_family(user: User) -> QuerySet[Reservation]:
    return (
        # No family (None) matches no row.
        Reservation.objects.filter(family_id=family_id_of(user))  # type: ignore[misc]
        # The order says who booked: the family, or the mairie on its behalf.
        .select_related("product__service", "child", "variant", "order")
        .order_by("date", "child__first_name", "product__name")
    )


def reservations_of_order(order_id: int) -> QuerySet[Reservation]:
    """An order's reservations, joined and ordered as `reservations_of_family` (the caller has
    checked the order is the family's: a checkout's answer)."""
    return (
        Reservation.objects.filter(order_id=order_id)
        .select_related("product__service", "child", "variant", "order")
        .order_by("date", "child__first_name", "product__name")
    )


def with_cancellation_terms(
    reservations: Iterable[Reservation],
    *,
    commune: Commune,
    now: datetime.datetime | None = None,
) -> list[Reservation]:
    """Annotate each of `commune`'s reservations with `cancellable_until` and
    `refund_if_cancelled_cents`: what cancelling it now would give back, the family's whole day
    settled as the cancellation would settle it (None when it cannot be cancelled). One query,
    whatever the number of reservations."""
    now = now or timezone.now()
    calendar = commune_calendar(commune)
    reservations = list(reservations)
    days = _family_days(
        {(r.family_id, r.product_id, r.date) for r in reservations if r.status == "booked"}
    )
    for reservation in reservations:
        rule = rules.DeadlineRule.for_cancellation(reservation.product)
        reservation.cancellable_until = rules.deadline_for(  # type: ignore[attr-defined]
            reservation.date, rule, calendar=calendar
        )
        percent = rules.cancellation_refund_percent(reservation, now=now, calendar=calendar)
        reservation.cancel_in_time = percent == 100  # type: ignore[attr-defined]
        reservation.refund_if_cancelled_cents = None  # type: ignore[attr-defined]
        reservation.refund_split_if_cancelled = None  # type: ignore[attr-defined]
        if percent is not None:
            places = rules.places_of(
                days[(reservation.family_id, reservation.product_id, reservation.date)]
            )
            decided = rules.settle_day(places, cancelled={reservation.pk}, refund_percent=percent)
            reservation.refund_if_cancelled_cents = decided.refunded_now(places)  # type: ignore[attr-defined]
            reservation.refund_split_if_cancelled = settlement.refund_split(  # type: ignore[attr-defined]
                decided, days[(reservation.family_id, reservation.product_id, reservation.date)]
            )
    return reservations


def _family_days(keys: set[tuple[int, int, datetime.date]]) -> dict[tuple, list[Reservation]]:
    """Every reservation (with its order) of the given (family, product, day)s, by day."""
    days: dict[tuple, list[Reservation]] = defaultdict(list)
    if not keys:
        return days
    for reservation in (
        Reservation.objects.filter(
            family_id__in={f for f, _, _ in keys},
            product_id__in={p for _, p, _ in keys},
            date__in={d for _, _, d in keys},
        )
        .select_related("order")
        .order_by("pk")
    ):
        key = (reservation.family_id, reservation.product_id, reservation.date)
        if key in keys:
            days[key].append(reservation)
    return days


def reservations_everywhere(
    user: User, *, since: datetime.date | None = None
) -> list[tuple[Commune, list[Reservation]]]:
    """[(commune, [reservation, …]), …] for every commune of the user's family ("Mes
    réservations" across communes): visits only the communes the family is linked to, a
    constant number of queries each."""
    result = []
    for commune in communes_of_family(family_id_of(user)):
        with tenant_context(commune):
            queryset = reservations_of_family(user)
            if since:
                queryset = queryset.filter(date__gte=since)
            result.append((commune, with_cancellation_terms(list(queryset), commune=commune)))
    return result


def live_reservations_of_family_everywhere(
    family_id: int, *, since: datetime.date
) -> list[tuple[Commune, list[Reservation]]]:
    """[(commune, [reservation, …]), …]: the family's live (not cancelled) reservations from
    `since` on, in every commune it is linked to, with product, service, child and variant. One
    query for the communes, then one per commune: nothing grows with the number of bookings."""
    result = []
    for commune in communes_of_family(family_id):
        with tenant_context(commune):
            reservations = list(
                Reservation.objects.filter(
                    family_id=family_id, date__gte=since, status__in=LIVE_STATUSES
                )
                .select_related("product__service", "child", "variant")
                .order_by("date", "pk")
            )
        result.append((commune, reservations))
    return result


def upcoming_reservations_of_child(
    *, user: User, child_id: int
) -> list[tuple[Commune, Reservation]]:
    """[(commune, reservation), …] booked from today on for one child, in every commune. Named
    in settings.FAMILY_BOOKINGS_HOOKS: the public schema's code calls it without importing it."""
    today = timezone.localdate()
    return [
        (commune, reservation)
        for commune, reservations in reservations_everywhere(user, since=today)
        for reservation in reservations
        if reservation.child_id == child_id and reservation.status == "booked"
    ]


@dataclass(frozen=True)
class HeadcountLine:
    product_name: str
    school_class: str
    variant: str
    children: list[Child]


def headcount(day: datetime.date) -> dict:
    """Who is booked on `day`: counts per product, class and meal variant, with names.

    Showing it to staff is audited: callers record the view (backoffice.services).
    """
    reservations = list(
        Reservation.objects.filter(date=day, status__in=LIVE_STATUSES)
        .select_related("product", "child", "variant")
        .order_by("product__name", "child__school_class", "child__last_name", "child__first_name")
    )
    groups: dict[tuple, list] = defaultdict(list)
    for reservation in reservations:
        key = (
            reservation.product_id,
            reservation.product.name,
            reservation.child.school_class or "",
            reservation.variant.name if reservation.variant else "",
        )
        groups[key].append(reservation)
    products: dict[int, dict] = {}
    for (product_id, product_name, school_class, variant), group in groups.items():
        entry = products.setdefault(
            product_id,
            {"product_id": product_id, "product": product_name, "total": 0, "groups": []},
        )
        entry["total"] += len(group)
        entry["groups"].append(
            {
                "school_class": school_class,
                "variant": variant,
                "count": len(group),
                "children": [
                    {
                        "id": r.child_id,
                        "first_name": r.child.first_name,
                        "last_name": r.child.last_name,
                        "school_class": r.child.school_class,
                        "notes": r.child.notes,
                        "status": r.status,
                    }
                    for r in group
                ],
            }
        )
    return {"date": day, "total": len(reservations), "products": list(products.values())}


def enrolled_children_choices() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """For staff forms: enrolled children of this commune (with their service) and products."""
    enrollments = list(
        Enrollment.objects.select_related("child", "service").order_by(
            "child__last_name", "child__first_name"
        )
    )
    seen, children = set(), []
    for enrollment in enrollments:
        if enrollment.child_id not in seen:
            seen.add(enrollment.child_id)
            child = enrollment.child
            children.append(
                (
                    child.pk,
                    f"{child.last_name} {child.first_name} ({child.school_class or 'classe ?'})",
                )
            )
    products = [
        (p.pk, f"{p.service.name} — {p.name}")
        for p in Product.objects.filter(is_active=True, service__is_active=True).select_related(
            "service"
        )
    ]
    return children, products


def next_reservations(user: User, *, limit: int = 5) -> list[tuple[Commune, Reservation]]:
    """The family's next `limit` booked days across its communes, soonest first: at most
    `limit` rows read per commune, a constant number of queries each."""
    today = timezone.localdate()
    found: list[tuple[Commune, Reservation]] = []
    for commune in communes_of_family(family_id_of(user)):
        with tenant_context(commune):
            queryset = reservations_of_family(user).filter(date__gte=today, status="booked")
            found.extend((commune, reservation) for reservation in queryset[:limit])
    found.sort(key=lambda pair: (pair[1].date, pair[0].name, pair[1].child.first_name))
    return found[:limit]


@dataclass(frozen=True)
class NextDeadline:
    commune: Commune
    product: Product
    day: datetime.date  # the next day still bookable
    deadline: datetime.datetime  # until when it can be booked


# How far ahead the parent's home looks for a bookable day (beyond: summer holidays, no need).
DEADLINE_HORIZON_DAYS = 62


def next_booking_deadlines(
    user: User, *, now: datetime.datetime | None = None
) -> list[NextDeadline]:
    """For each product of the services the family's children are enrolled in, in every commune
    of the family: the next open day whose booking deadline is still ahead, and that deadline.
    Soonest deadline first; three queries per commune (products, closures, and the commune
    list once)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    family_id = family_id_of(user)
    days = [today + datetime.timedelta(days=i) for i in range(DEADLINE_HORIZON_DAYS)]
    found: list[NextDeadline] = []
    for commune in communes_of_family(family_id):
        with tenant_context(commune):
            enrolled = Enrollment.objects.filter(family_id=family_id).values("service_id")  # type: ignore[misc]
            products = list(
                Product.objects.filter(
                    is_active=True, service__is_active=True, service_id__in=enrolled
                )
                .select_related("service")
                .order_by("service__name", "name", "pk")
            )
            if not products:
                continue
            closures: dict[int, dict[datetime.date, str]] = defaultdict(dict)
            for service_id, day, reason in Closure.objects.filter(
                service_id__in={p.service_id for p in products}, date__range=(days[0], days[-1])
            ).values_list("service_id", "date", "reason"):
                closures[service_id][day] = reason
            calendar_ = commune_calendar(commune)
            for product in products:
                context = BookingContext(
                    product=product,
                    calendar=calendar_,
                    closures=closures[product.service_id],
                    quotient_familial=None,
                )
                for day in days:
                    if context.is_open(day) and context.booking_deadline(day) > now:
                        found.append(
                            NextDeadline(commune, product, day, context.booking_deadline(day))
                        )
                        break
    found.sort(key=lambda item: (item.deadline, item.commune.name, item.product.name))
    return found


@dataclass(frozen=True)
class WalletCover:
    """What the family's wallet can pay of a cart: shown before "Payer" when it falls short."""

    usable_cents: int  # the pockets of the cart's services, plus "tous services" if allowed
    missing_cents: int  # what the wallet alone cannot pay (0: it can pay everything)


def wallet_cover_of_cart(*, commune: Commune, user: User, items: Iterable[CartItem]) -> WalletCover:
    """How much of the cart the wallet pays, spending as checkout does: each service's own
    pocket first, then the general pocket (when the commune accepts it). Three queries."""
    costs: dict[int, int] = defaultdict(int)
    for item in items:
        costs[item.product.service_id] += item.price_cents
    pockets = pockets_of(family_id_of(user))
    own = {
        p.service_id: p.balance_cents
        for p in pockets
        if p.scope == "service" and p.commune_slug == commune.slug
    }
    general = pockets[0].balance_cents if general_credit_allowed(commune) else 0
    own_usable = sum(min(own.get(service, 0), cost) for service, cost in costs.items())
    beyond_own = sum(costs.values()) - own_usable
    return WalletCover(
        usable_cents=sum(own.get(service, 0) for service in costs) + general,
        missing_cents=max(0, beyond_own - general),
    )
