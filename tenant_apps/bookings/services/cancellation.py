"""Use cases that cancel reservations (guide step 5): a family's red cross, the commune closing
a day, a child leaving the family's list.

The refund of a cancellation is decided by the rules: `rules.cancellation_refund_percent` (100
before the product's deadline, its late rule after it), then `rules.settle_day` over the
family's whole day (so the sibling reduction follows who remains); `settlement.apply` writes it
and posts what is money now. Locks follow `locks.py`'s order.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.families.selectors import family_id_of
from shared_apps.wallet.services import lock_refund_accounts
from tenant_apps.billing.services.receivables import credit_settled_day, direct_debit_refunds
from tenant_apps.bookings import rules, selectors, settlement
from tenant_apps.bookings.errors import NotCancellable, ReservationNotFound
from tenant_apps.bookings.locks import free_places, lock_counters, lock_days
from tenant_apps.bookings.models import (
    OrderStatus,
    PaymentChoice,
    Reservation,
    ReservationStatus,
)
from tenant_apps.bookings.parsing import as_int
from tenant_apps.bookings.wording import why_not_cancellable
from tenant_apps.catalog.models import Product
from tenants.calendar import commune_calendar
from tenants.services import CommuneSuspended, assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


@dataclass(frozen=True)
class CancelResult:
    reservation: Reservation
    refund_cents: int
    # "service" (the service's wallet pocket, now), "pending_card" (the pocket, once the pending
    # card payment arrives), "invoice" (not invoiced) or None (nothing given back)
    pocket: str | None
    # refund_cents per pocket (settlement.pocket_of): the day's refund may also come from an
    # earlier cancellation of a sibling paid otherwise
    split: dict[str, int] | None = None


def cancel_reservation(
    *,
    commune: Commune,
    user: User,
    reservation_id: int | str,
    now: datetime.datetime | None = None,
    staff: bool = False,
) -> CancelResult:
    """ "Mes réservations" → the red cross → "OK": cancel one child's day and settle the family's
    day: within the deadline the family gets back what it paid beyond the price of the children
    still booked (so the sibling reduction follows who remains); after it, the product's late
    rule applies to that amount (or the day can no longer be cancelled).

    The refund is decided now, whatever the payment: paid by wallet or card, it goes to the
    service's pocket now; a card payment still pending records it and pays it into the pocket
    when the card money arrives; by direct debit it is taken off the invoice.
    Raises ReservationNotFound (not this family's), NotCancellable (already cancelled, marked
    at attendance, deadline passed with no late rule, day over), CommuneSuspended (the
    commune's service is suspended: nothing is cancelled nor refunded), CommuneInactive.
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    query = Reservation.objects.all()
    if not staff:
        # No family (None) matches no row.
        query = query.filter(family_id=family_id_of(user))  # type: ignore[misc]
    # Not an id (None) matches no row.
    found = (
        query.filter(pk=as_int(reservation_id)).values("family_id", "product_id", "date").first()  # type: ignore[misc]
    )
    if found is None:
        raise ReservationNotFound()
    key = (found["family_id"], found["product_id"], found["date"])
    with transaction.atomic():
        lock_active_commune(commune)  # suspended or closed meanwhile: nothing moves
        # This family's day, exclusively: other families' checkouts of the day go on.
        lock_counters([(found["product_id"], found["date"])], family_id=found["family_id"])
        day = lock_days([key])[key]
        reservation = next(r for r in day if r.pk == as_int(reservation_id))
        calendar = commune_calendar(commune)
        if reservation.status != ReservationStatus.BOOKED:
            raise NotCancellable(why_not_cancellable(reservation, now=now, calendar=calendar))
        percent = rules.cancellation_refund_percent(reservation, now=now, calendar=calendar)
        if percent is None:
            raise NotCancellable(why_not_cancellable(reservation, now=now, calendar=calendar))
        decided = rules.settle_day(
            rules.places_of(day), cancelled={reservation.pk}, refund_percent=percent
        )
        reservation.status = ReservationStatus.CANCELLED
        reservation.cancelled_at = now
        reservation.cancelled_by = user
        reservation.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        free_places([(reservation.product_id, reservation.date)])
        total_refund = decided.refunded_now(rules.places_of(day))
        split = settlement.refund_split(decided, day)
        direct_debit_before = direct_debit_refunds(day)
        description = f"Annulation {reservation.product.name} du {reservation.date:%d/%m/%Y}"
        settlement.apply(decided, day, commune=commune, user=user, description=description)
        # Direct-debit places: what will not be invoiced leaves the family's receivable.
        credit_settled_day(
            commune=commune, day=day, before=direct_debit_before, description=description, user=user
        )
        pocket = None
        if total_refund and reservation.order.status == OrderStatus.AWAITING_PAYMENT:
            pocket = "pending_card"  # paid into the service's pocket when the card money arrives
        elif total_refund and reservation.paid_by in (PaymentChoice.WALLET, PaymentChoice.CARD):
            pocket = "service"
        elif reservation.paid_by == PaymentChoice.DIRECT_DEBIT:
            pocket = "invoice"  # not billed (or billed only the late share)
    return CancelResult(reservation, total_refund, pocket, split)


def cancel_day_for_closure(
    *, commune: Commune, service_id: int, day: datetime.date, reason: str
) -> int:
    """The commune closes a day: cancel its reservations and give back everything paid for it,
    whatever the deadlines, late fees included (the service is not provided). Wallet- and
    card-paid money goes to the service's pocket; direct-debit days are not invoiced; an unpaid
    card order gets its money in the pocket if it ever arrives. Returns how many were live.
    Runs inside the caller's transaction (with the closure it writes). Errors:
    CommuneSuspended (a suspended commune refunds nothing, so closes no booked day)."""
    assert_on_schema(commune)
    lock_active_commune(commune)
    product_ids = list(
        Product.objects.filter(service_id=service_id).order_by("pk").values_list("pk", flat=True)
    )
    lock_counters([(product_id, day) for product_id in product_ids])
    keys = set(
        Reservation.objects.filter(product_id__in=product_ids, date=day).values_list(
            "family_id", "product_id", "date"
        )
    )
    now = timezone.now()
    cancelled = []
    days = lock_days(keys)
    # Many families are refunded in this one transaction: their pockets and the revenue account
    # are locked at once, in id order, as a single family's payment locks them.
    lock_refund_accounts(
        family_ids={
            r.family_id
            for family_day in days.values()
            for r in family_day
            if r.paid_by in (PaymentChoice.WALLET, PaymentChoice.CARD)
        },
        commune=commune,
        service_id=service_id,
        receivable_family_ids={
            r.family_id
            for family_day in days.values()
            for r in family_day
            if r.paid_by == PaymentChoice.DIRECT_DEBIT and r.status == ReservationStatus.BOOKED
        },
    )
    for family_day in days.values():
        live = [r for r in family_day if r.status == ReservationStatus.BOOKED]
        decided = rules.settle_day(
            rules.places_of(family_day),
            cancelled={r.pk for r in live},
            waive_late_fees=True,
        )
        for reservation in live:
            reservation.status = ReservationStatus.CANCELLED
            reservation.cancelled_at = now
        Reservation.objects.bulk_update(live, ["status", "cancelled_at"])
        direct_debit_before = direct_debit_refunds(family_day)
        description = f"Fermeture du {day:%d/%m/%Y} ({reason[:80]}) : {family_day[0].product.name}"
        settlement.apply(decided, family_day, commune=commune, description=description)
        credit_settled_day(
            commune=commune, day=family_day, before=direct_debit_before, description=description
        )
        cancelled.extend(live)
    free_places([(r.product_id, r.date) for r in cancelled])
    return len(cancelled)


def cancel_upcoming_reservations_of_child(
    *, user: User, child_id: int
) -> list[tuple[Commune, Reservation, int | None]]:
    """A child leaves the family's list: in every commune, cancel what can still be cancelled
    (with the usual refund); what cannot stays booked (and billed). Returns
    [(commune, reservation, refund_cents or None when not cancellable), …]. Named in
    settings.FAMILY_BOOKINGS_HOOKS: the public schema's code calls it without importing it."""
    outcome: list[tuple[Commune, Reservation, int | None]] = []
    for commune, reservation in selectors.upcoming_reservations_of_child(
        user=user, child_id=child_id
    ):
        with tenant_context(commune):
            try:
                result = cancel_reservation(
                    commune=commune, user=user, reservation_id=reservation.pk
                )
                outcome.append((commune, reservation, result.refund_cents))
            except (NotCancellable, CommuneSuspended):  # a suspended commune refunds nothing
                outcome.append((commune, reservation, None))
    return outcome
