"""The refusals shared by the booking use cases: which product, which family, which children,
and whether each (child, day) may be booked. Reads only; each raises the domain error a parent
or an agent sees ("Jour fermé — Vacances de Noël : lundi 21/12.")."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from django.db import connection
from django.db.models import Exists, Field, Model, OuterRef
from django.utils import timezone

from shared_apps.common.validation import MAX_DATABASE_ID
from shared_apps.families.models import Child, Guardian
from shared_apps.families.selectors import family_id_of
from tenant_apps.bookings import rules
from tenant_apps.bookings.errors import (
    AlreadyBooked,
    ChildNotFound,
    DayClosed,
    DayFull,
    DeadlinePassed,
    InvalidBooking,
    NotEnrolled,
    ProductNotFound,
)
from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.models import (
    LIVE_STATUSES,
    Cart,
    CartItem,
    DayCount,
    PaymentChoice,
    Reservation,
)
from tenant_apps.bookings.parsing import BOOKING_HORIZON_DAYS, as_int
from tenant_apps.catalog.models import MealVariant, Product, Service
from tenant_apps.enrollments.models import Enrollment, FamilyProfile

if TYPE_CHECKING:
    from shared_apps.accounts.models import User

ModelT = TypeVar("ModelT", bound=Model)


def family_of_booker(user: User) -> int:
    """The user's family id; InvalidBooking while the user has described no family."""
    family_id = family_id_of(user)
    if family_id is None:
        raise InvalidBooking("Ajoutez d’abord vos enfants dans « Mes filiations ».")
    return family_id


def active_product(product_id: int | str) -> Product:
    """The active product of an active service (with its service); ProductNotFound otherwise.

    One query, written out (the rows are turned into instances by `Model.from_db`, as the ORM
    does): every booking starts here, and composing the join cost more than answering it."""
    try:
        pk = int(product_id)
    except (TypeError, ValueError) as exc:
        raise ProductNotFound() from exc
    if not 0 < pk <= MAX_DATABASE_ID:
        raise ProductNotFound()
    product_fields, service_fields = _concrete(Product), _concrete(Service)
    columns = [f"p.{f.column}" for f in product_fields] + [f"s.{f.column}" for f in service_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Product._meta.db_table} p "
            f"JOIN {Service._meta.db_table} s ON s.id = p.service_id "
            "WHERE p.id = %s AND p.is_active AND s.is_active",
            [pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise ProductNotFound()
    split = len(product_fields)
    product = _instance(Product, product_fields, row[:split])
    product.service = _instance(Service, service_fields, row[split:])
    return product


def _concrete(model: type[Model]) -> list[Field]:
    return list(model._meta.concrete_fields)


def _instance(model: type[ModelT], fields: list[Field], values: tuple) -> ModelT:
    """An instance from its row, each value through its field's converters (JSON…), as the
    ORM's compiler does."""
    converted = []
    for field, value in zip(fields, values, strict=True):
        for converter in field.get_db_converters(connection):
            value = converter(value, field, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], converted)


def chosen_variant(product: Product, variant_id: int | str | None) -> MealVariant | None:
    """The product's meal variant `variant_id`, None when none is chosen (None or "");
    InvalidBooking (400) for an id that is not one of the product's variants."""
    if variant_id in (None, ""):
        return None
    # Not an id (None) matches no row.
    variant = MealVariant.objects.filter(pk=as_int(variant_id), product=product).first()  # type: ignore[misc]
    if variant is None:
        raise InvalidBooking(fields={"variant_id": ["Choix de repas inconnu."]})
    return variant


def check_payment_choice(payment_method: str) -> None:
    """Refuse (InvalidBooking, 400) a payment method that is none of PaymentChoice's values."""
    if payment_method not in PaymentChoice.values:
        raise InvalidBooking(
            fields={"payment_method": ["Moyen de paiement : wallet, card ou direct_debit."]}
        )


def check_children_enrolled(family_id: int, product: Product, child_ids: list[int]) -> None:
    """Refuse the request unless every child is this family's (not removed) and enrolled in
    the product's service. One query, before any calendar or booking is read, and one answer
    (ChildNotFound, 404) whichever id is wrong — another family's, unknown, removed or not
    enrolled — so the refusal tells nothing about other families' children."""
    found = Enrollment.objects.filter(
        service_id=product.service_id,
        child_id__in=child_ids,
        child__family_id=family_id,
        child__removed_at__isnull=True,
    ).count()
    if found != len(child_ids):
        raise ChildNotFound(fields={"child_ids": [ChildNotFound.message]})


def check_days(
    context: BookingContext,
    child_ids: list[int],
    dates: list[datetime.date],
    family_id: int,
    *,
    now: datetime.datetime,
) -> list[tuple[int, datetime.date]]:
    """Refuse the whole request if any (child, day) breaks a rule; return the family's live
    places on the product and `dates`, as (child id, day) pairs (what its children already
    hold: sibling ranks). Three queries (four with a daily capacity), whatever the number of
    children and days."""
    product = context.product
    names = enrolled_children(family_id, product, child_ids)
    check_open_and_on_time(context, dates, now=now)
    holding = list(
        Reservation.objects.filter(
            product=product, family_id=family_id, date__in=dates, status__in=LIVE_STATUSES
        ).values_list("child_id", "date")
    )
    wanted = set(child_ids)
    booked = [(c, d) for c, d in holding if c in wanted]
    if booked:
        raise AlreadyBooked(
            "Déjà réservé : "
            + "; ".join(
                f"{names[c]} le {rules.day_label(d)}" for c, d in sorted(booked, key=lambda x: x[1])
            )
            + ".",
            fields={"dates": sorted({d.isoformat() for _, d in booked})},
        )
    if product.daily_capacity is not None:
        counts = dict(
            DayCount.objects.filter(product=product, date__in=dates).values_list("date", "booked")
        )
        full = [
            d
            for d in dates
            if rules.over_capacity(counts.get(d, 0), len(child_ids), product.daily_capacity)
        ]
        if full:
            raise DayFull(
                f"Plus assez de places : {rules.list_days(full)}.",
                fields={"dates": [d.isoformat() for d in full]},
            )
    return holding


def enrolled_children(family_id: int, product: Product, child_ids: list[int]) -> dict[int, str]:
    """The first names of `child_ids` by id, once each is known to be this family's (not
    removed) and enrolled in the product's service. One query. Errors: InvalidBooking (400) for
    a child that is not the family's, NotEnrolled (409) naming the children not enrolled."""
    enrolled_in_service = Enrollment.objects.filter(
        service_id=product.service_id, child_id=OuterRef("pk")
    )
    children = {
        pk: (first_name, enrolled)
        for pk, first_name, enrolled in Child.objects.filter(
            pk__in=child_ids, family_id=family_id, removed_at__isnull=True
        )
        .annotate(enrolled=Exists(enrolled_in_service))
        .values_list("pk", "first_name", "enrolled")
    }
    if len(children) != len(child_ids):
        raise InvalidBooking(fields={"child_ids": ["Enfant inconnu dans votre famille."]})
    names = {pk: first_name for pk, (first_name, _) in children.items()}
    not_enrolled = [names[c] for c in child_ids if not children[c][1]]
    _refuse_not_enrolled(not_enrolled)
    return names


@dataclass(frozen=True)
class Booker:
    """Who books: the user's family (its children chosen all its own and enrolled) and its
    quotient familial in this commune (None: unknown)."""

    family_id: int
    quotient_familial: int | None
    in_cart: bool  # some of these children's days of the product are in the family's cart


_BOOKER_SQL = f"""
SELECT c.id, c.family_id, c.first_name,
    EXISTS (SELECT 1 FROM {Enrollment._meta.db_table} e
            WHERE e.child_id = c.id AND e.service_id = %s),
    (SELECT p.quotient_familial FROM {FamilyProfile._meta.db_table} p
     WHERE p.family_id = c.family_id LIMIT 1),
    EXISTS (SELECT 1 FROM {CartItem._meta.db_table} i
            JOIN {Cart._meta.db_table} k ON k.id = i.cart_id
            WHERE k.family_id = c.family_id AND i.child_id = c.id AND i.product_id = %s
              AND i.date = ANY(%s::date[]))
FROM {Child._meta.db_table} c
JOIN {Guardian._meta.db_table} g ON g.family_id = c.family_id
WHERE g.user_id = %s AND c.id = ANY(%s::bigint[]) AND c.removed_at IS NULL
"""


def booker_of(
    user: User, product: Product, child_ids: list[int], dates: list[datetime.date]
) -> Booker:
    """The user's family, its children `child_ids`, its quotient familial and whether its cart
    holds some of these children's `dates` of the product, in one query; refused as
    `enrolled_children` refuses them (InvalidBooking, 400, also when the user has described no
    family; NotEnrolled, 409). On the schema of the product's commune."""
    # Written out, not composed with the ORM: on the one-step booking's hot path, composing
    # three subqueries cost several times what PostgreSQL takes to answer them.
    with connection.cursor() as cursor:
        cursor.execute(_BOOKER_SQL, [product.service_id, product.pk, dates, user.pk, child_ids])
        rows = cursor.fetchall()
    if len(rows) != len(child_ids):
        family_of_booker(user)  # no family at all: say so first
        raise InvalidBooking(fields={"child_ids": ["Enfant inconnu dans votre famille."]})
    not_enrolled = sorted(first_name for _, _, first_name, enrolled, *_ in rows if not enrolled)
    _refuse_not_enrolled(not_enrolled)
    return Booker(
        family_id=rows[0][1],
        quotient_familial=rows[0][4],
        in_cart=any(row[5] for row in rows),
    )


def _refuse_not_enrolled(first_names: list[str]) -> None:
    """NotEnrolled (409) naming the children not enrolled in the service, if any."""
    if first_names:
        raise NotEnrolled(
            f"{', '.join(first_names)} n’est pas inscrit·e à ce service : faites d’abord une "
            "demande d’accès.",
            fields={"child_ids": [NotEnrolled.message]},
        )


def check_open_and_on_time(
    context: BookingContext, dates: list[datetime.date], *, now: datetime.datetime
) -> None:
    """Refuse days beyond the booking horizon, closed for the product (weekday, holidays,
    the service's closures in `context`) — DayClosed saying why — or past their booking
    deadline (DeadlinePassed, naming the rule). No query: the rules' inputs are in `context`;
    `now` is an aware datetime, days are compared in Europe/Paris."""
    today = timezone.localdate(now)
    horizon = today + datetime.timedelta(days=BOOKING_HORIZON_DAYS)
    closed = [d for d in dates if d > horizon or not context.is_open(d)]
    if closed:
        raise day_closed(context, closed, horizon)
    late = [d for d in dates if now >= context.booking_deadline(d)]
    if late:
        raise DeadlinePassed(
            f"Délai de réservation dépassé "
            f"({rules.DeadlineRule.for_booking(context.product).describe()}) : "
            f"{rules.list_days(late)}.",
            fields={"dates": [d.isoformat() for d in late]},
        )


def day_closed(
    context: BookingContext, closed: list[datetime.date], horizon: datetime.date | None = None
) -> DayClosed:
    """The refusal of closed days, saying why each is closed ("Jour fermé — Vacances de Noël :
    lundi 21/12 ; pas d’accueil le mercredi : mercredi 09/12."), for parents and agents alike."""
    reasons: dict[str, list[datetime.date]] = {}
    if horizon is not None:
        far = [d for d in closed if d > horizon]
        if far:
            reasons["hors du calendrier de réservation"] = far
        closed = [d for d in closed if d <= horizon]
    reasons.update(context.closed_by_reason(closed))
    return DayClosed(
        "Jour fermé — "
        + " ; ".join(f"{reason} : {rules.list_days(days)}" for reason, days in reasons.items())
        + ".",
        fields={"dates": sorted(d.isoformat() for days in reasons.values() for d in days)},
    )
