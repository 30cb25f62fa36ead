"""Use case "Réserver pour une famille" (the "cagnotte", guide step 7): an agent books for a
family that forgot, with its agreement, paid from its wallet — through `checkout.place_order`,
the one place an order is written."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.audit.services import record
from tenant_apps.bookings import rules
from tenant_apps.bookings.errors import DayClosed, DeadlinePassed, InvalidBooking, NotEnrolled
from tenant_apps.bookings.inputs import BookingContext
from tenant_apps.bookings.models import PaymentChoice
from tenant_apps.bookings.parsing import BOOKING_HORIZON_DAYS, as_int, parse_dates
from tenant_apps.bookings.services.checkout import CheckoutResult, OrderLine, place_order
from tenant_apps.bookings.services.checks import active_product, day_closed
from tenant_apps.bookings.tasks import send_booked_on_behalf_email_task
from tenant_apps.enrollments.models import Enrollment
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune


def book_on_behalf(
    *,
    commune: Commune,
    staff_user: User,
    child_id: int | str,
    product_id: int | str,
    dates: Sequence[datetime.date | str],
    consent_note: str,
    now: datetime.datetime | None = None,
) -> CheckoutResult:
    """An agent books days for a family's child, with the family's agreement (`consent_note`),
    paid from its wallet. The booking deadline is waived (that is the point), but not closures,
    capacity, enrolment or past days. Audited; the family is told by e-mail."""
    assert_on_schema(commune)
    now = now or timezone.now()
    consent_note = (consent_note or "").strip()
    if not consent_note or len(consent_note) > 500:
        raise InvalidBooking(
            "Notez l’accord de la famille (qui, quand, comment).",
            fields={"consent_note": ["Obligatoire, 500 caractères au plus."]},
        )
    product = active_product(product_id)
    dates = parse_dates(dates)
    # Not an id (None) matches no row.
    enrollment = Enrollment.objects.filter(  # type: ignore[misc]
        service_id=product.service_id, child_id=as_int(child_id)
    ).first()
    if enrollment is None:
        raise NotEnrolled(fields={"child_id": [NotEnrolled.message]})
    family_id = enrollment.family_id
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
    with transaction.atomic():
        lock_active_commune(commune)  # the request's commune may be a stale cached copy
        lines = [OrderLine(enrollment.child_id, product.pk, day) for day in dates]
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
                "consent_note": consent_note,
                "amount_cents": result.order.amount_cents,
            },
        )
        enqueue_on_commit(send_booked_on_behalf_email_task, commune.schema_name, result.order.pk)
    return result
