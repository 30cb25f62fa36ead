"""Use case "Réserver pour une famille" (the "cagnotte", guide step 7): an agent books for a
family that forgot, with its agreement, paid from its wallet — through `checkout.place_order`,
the one place an order is written.

The agreement is either the family's standing consent for this commune (given by a guardian in
"Mes filiations" → "Réservations par la mairie", FamilyCommune.booking_consent_at) or the
consent the agent obtained and notes (Order.consent_note). Without either: ConsentRequired."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.audit.services import record
from shared_apps.common.errors import DomainError, NotFound
from shared_apps.common.money import format_euros
from shared_apps.families.selectors import standing_booking_consent
from shared_apps.wallet.errors import InsufficientBalance
from shared_apps.wallet.services import available_for
from tenant_apps.bookings import rules
from tenant_apps.bookings.errors import DayClosed, DeadlinePassed, InvalidBooking, NotEnrolled
from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.models import PaymentChoice
from tenant_apps.bookings.parsing import BOOKING_HORIZON_DAYS, as_int, parse_dates
from tenant_apps.bookings.services.checkout import CheckoutResult, OrderLine, place_order
from tenant_apps.bookings.services.checks import active_product, day_closed
from tenant_apps.bookings.tasks import send_booked_on_behalf_email_task
from tenant_apps.catalog.models import MealVariant
from tenant_apps.enrollments.models import Enrollment
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


class ConsentRequired(DomainError):
    """400, not 409: the request itself lacks what it needs (the note of the consent obtained),
    and the same request with a `consent_note` succeeds; a 409 would say the family's state
    forbids it whatever the client sends."""

    code = "consent_required"
    message = (
        "Cette famille n’a pas donné d’accord permanent à la mairie : notez l’accord obtenu "
        "(qui, quand, comment) pour réserver à sa place."
    )


STANDARD_MEAL = 0  # `variant_id` meaning "the standard meal, chosen on purpose"


def book_on_behalf(
    *,
    commune: Commune,
    staff_user: User,
    child_id: int | str,
    product_id: int | str,
    dates: Sequence[datetime.date | str],
    consent_note: str = "",
    variant_id: int | str | None = None,
    family_id: int | None = None,
    now: datetime.datetime | None = None,
) -> CheckoutResult:
    """An agent books days (`dates`, ISO strings or dates) of `product_id` for a family's
    enrolled child, with the family's agreement, paid from its wallet (the service's pocket,
    then "tous services" if the commune accepts it). Returns the order and its reservations.

    Agreement: the family's standing consent for this commune, or `consent_note` (who, when,
    how; 500 characters at most), kept on the order. Neither: ConsentRequired (400).
    `variant_id`: the meal variant, saved on each reservation; when the product has variants the
    agent must choose one, STANDARD_MEAL (0) being the standard meal, so that a PAI child is
    never counted as standard by omission (issue 12). `family_id` (from the family file): the
    child must be that family's, or NotFound.

    The booking deadline is waived (that is the point), but not closures, capacity, enrolment
    or past days. Not enough in the wallet: InsufficientBalance (409) saying the balance and the
    missing amount, nothing booked nor debited. Audited ("booking.on_behalf"); the family is
    told by e-mail."""
    assert_on_schema(commune)
    now = now or timezone.now()
    consent_note = (consent_note or "").strip()
    if len(consent_note) > 500:
        raise InvalidBooking(
            "Notez l’accord de la famille en 500 caractères au plus.",
            fields={"consent_note": ["500 caractères au plus."]},
        )
    product = active_product(product_id)
    dates = parse_dates(dates)
    # Not an id (None) matches no row.
    # A child taken off the family's list (removed_at) is no longer booked, by anyone.
    enrollment = Enrollment.objects.filter(  # type: ignore[misc]
        service_id=product.service_id,
        child_id=as_int(child_id),
        child__removed_at__isnull=True,
    ).first()
    if enrollment is None:
        raise NotEnrolled(fields={"child_id": [NotEnrolled.message]})
    if family_id is not None and enrollment.family_id != family_id:
        raise NotFound("Enfant introuvable dans cette famille.")
    family_id = enrollment.family_id
    variants = list(MealVariant.objects.filter(product=product).values_list("pk", flat=True))
    variant = as_int(variant_id) if variant_id not in (None, "") else None
    chose_standard = variant == STANDARD_MEAL
    if chose_standard:
        variant = None
    elif variant_id not in (None, "") and variant not in variants:
        raise InvalidBooking(fields={"variant_id": ["Choix de repas inconnu pour ce produit."]})
    if variants and variant is None and not chose_standard:
        raise InvalidBooking(
            "Choisissez le repas (standard, sans viande, PAI…) : un enfant avec un PAI ne doit "
            "pas être compté en repas standard.",
            fields={"variant_id": ["Choisissez le repas."]},
        )
    consent_given_at = standing_booking_consent(family_id, commune.pk)
    if consent_given_at is None and not consent_note:
        raise ConsentRequired(fields={"consent_note": [ConsentRequired.message]})
    today = timezone.localdate(now)
    past = [d for d in dates if d < today]
    far = [d for d in dates if d > today + datetime.timedelta(days=BOOKING_HORIZON_DAYS)]
    if far:
        raise DayClosed(
            f"Hors calendrier : {rules.list_days(far)}.",
            fields={"dates": [d.isoformat() for d in far]},
        )
    if past:
        raise DeadlinePassed(
            f"Jour passé : {rules.list_days(past)}.",
            fields={"dates": [d.isoformat() for d in past]},
        )
    context = BookingContext.load(product, family_id, dates, commune=commune)
    closed = [d for d in dates if not context.is_open(d)]
    if closed:
        raise day_closed(context, closed)
    lines = [OrderLine(enrollment.child_id, product.pk, day, variant_id=variant) for day in dates]
    try:
        with transaction.atomic():
            lock_active_commune(commune)  # the request's commune may be a stale cached copy
            if (
                not consent_note
                and standing_booking_consent(family_id, commune.pk, lock=True) is None
            ):
                # Withdrawn since the check above, while this request was on its way.
                raise ConsentRequired(fields={"consent_note": [ConsentRequired.message]})
            result = place_order(
                commune=commune,
                family_id=family_id,
                user=staff_user,
                items=lines,
                products={product.pk: product},
                payment_method=PaymentChoice.WALLET,
                pricing={product.pk: context.prices()},
                on_behalf=True,
                consent_note=consent_note,
            )
            record(
                actor=staff_user,
                commune=commune,
                action="booking.on_behalf",
                target_type="order",
                target_id=result.order.pk,
                family_id=family_id,
                details={
                    "child_id": enrollment.child_id,
                    "dates": [d.isoformat() for d in dates],
                    "variant_id": variant,
                    "consent": "standing" if consent_given_at and not consent_note else "note",
                    "consent_note": consent_note,
                    "amount_cents": result.order.amount_cents,
                },
            )
            enqueue_on_commit(
                send_booked_on_behalf_email_task, commune.schema_name, result.order.pk
            )
    except InsufficientBalance as exc:
        # Everything above was rolled back; place_order priced the lines before paying.
        needed = sum(line.price_cents for line in lines)
        available = available_for(family_id, commune, product.service_id)
        raise InsufficientBalance(
            f"Solde insuffisant : {format_euros(available)} disponibles pour "
            f"{product.service.name}, {format_euros(needed)} nécessaires — il manque "
            f"{format_euros(max(needed - available, 0))}. Rien n’a été réservé ni débité."
        ) from exc
    return result
