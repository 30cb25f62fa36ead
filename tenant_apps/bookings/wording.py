"""What cancelling a reservation does with its money, and why one cannot be cancelled, said in
French: one sentence for the confirmation page, the message after "OK", the API and e-mails.

The amounts themselves are decided by the rules (`rules.cancellation_refund_percent`,
`rules.settle_day`); this module only says them."""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.utils import timezone

from shared_apps.common.money import format_euros
from tenant_apps.bookings import rules
from tenant_apps.bookings.models import OrderStatus, PaymentChoice, Reservation, ReservationStatus
from tenants.calendar import CommuneCalendar


def _amount_is(cents: int, singular: str, plural: str) -> str:
    """ "1,50 € sera recrédité", "3,80 € seront recrédités": French agrees below 2 with the
    singular."""
    return f"{format_euros(cents)} {singular if cents < 200 else plural}"


def refund_sentence(
    reservation: Reservation,
    refund_cents: int,
    *,
    done: bool = False,
    split: Mapping[str, int] | None = None,
) -> str:
    """`refund_cents` said for `reservation`'s own payment method and, when the day's settlement
    also gives back, through another payment, what an earlier cancellation of a sibling kept
    (`split`: cents per settlement.pocket_of), one more sentence for each such part."""
    from tenant_apps.bookings.settlement import pocket_of

    own = pocket_of(reservation)
    others = {kind: cents for kind, cents in (split or {}).items() if kind != own and cents > 0}
    if not others:
        return _own_refund_sentence(reservation, refund_cents, done=done)
    sentence = _own_refund_sentence(reservation, (split or {}).get(own, 0), done=done)
    service = reservation.product.service.name
    pocket = f"sur votre porte-monnaie, pour le service « {service} »"
    for kind in ("service", "pending_card", "invoice"):
        cents = others.get(kind)
        if not cents:
            continue
        if kind == "service":
            verb = (
                _amount_is(cents, "est recrédité", "sont recrédités")
                if done
                else _amount_is(cents, "sera recrédité", "seront recrédités")
            )
            what = f"{verb} {pocket}"
        elif kind == "pending_card":
            paid = _amount_is(cents, "sera versé", "seront versés")
            what = f"si le paiement par carte aboutit, {paid} {pocket}"
        else:
            what = _amount_is(cents, "ne sera pas facturé", "ne seront pas facturés")
        sentence += (
            f" Ce qu’une annulation précédente de ce jour avait retenu revient aussi : {what}."
        )
    return sentence


def _own_refund_sentence(reservation: Reservation, refund_cents: int, *, done: bool = False) -> str:
    """What happens to the money when `reservation` is cancelled giving back `refund_cents`
    (what the day's settlement gives back: within the deadline, what the family paid beyond the
    price of the children still booked; the late rule's share after it).

    The truth per payment method: the wallet and a paid card give back to the service's pocket
    (never to the card); a card payment still pending gives back only if it succeeds; direct
    debit gives back nothing, the day (or its refunded share) is simply not invoiced. `done`:
    said after the cancellation rather than before "OK".
    """
    service = reservation.product.service.name
    price = reservation.price_cents
    # More than the price when the day empties: what an earlier cancellation kept comes back.
    refund_cents = max(0, refund_cents or 0)
    pocket = f"sur votre porte-monnaie, pour le service « {service} »"
    if reservation.paid_by == PaymentChoice.DIRECT_DEBIT:
        if refund_cents >= price:
            return "Ce jour ne sera pas facturé."
        if refund_cents:
            late = format_euros(price - refund_cents)
            return f"Seule la part due pour l’annulation tardive sera facturée : {late}."
        return f"Ce jour reste facturé : {format_euros(price)}."
    if not refund_cents:
        return "Aucun remboursement n’est fait." if done else "Aucun remboursement ne sera fait."
    if (
        reservation.paid_by == PaymentChoice.CARD
        and reservation.order.status == OrderStatus.AWAITING_PAYMENT
    ):
        # Decided now, paid into the pocket when the card payment arrives
        # (services.card_orders.fulfil_checkout).
        amount = _amount_is(refund_cents, "sera versé", "seront versés")
        return f"Si le paiement par carte aboutit, {amount} {pocket}."
    verb = (
        _amount_is(refund_cents, "est recrédité", "sont recrédités")
        if done
        else _amount_is(refund_cents, "sera recrédité", "seront recrédités")
    )
    only = ("Seul " if refund_cents < 200 else "Seuls ") if refund_cents < price else ""
    not_card = " (et non sur la carte)" if reservation.paid_by == PaymentChoice.CARD else ""
    return f"{only}{verb} {pocket}{not_card}."


def why_not_cancellable(
    reservation: Reservation, *, calendar: CommuneCalendar, now: datetime.datetime | None = None
) -> str | None:
    """Why `reservation` cannot be cancelled now, in French; None when it can. Checked in the
    order a parent would ask: already cancelled, day over or attended, then the deadline.
    `calendar` is the reservation's commune's (tenants.calendar.commune_calendar)."""
    now = now or timezone.now()
    if reservation.status == ReservationStatus.CANCELLED:
        return "Cette réservation est déjà annulée."
    if reservation.status in (ReservationStatus.ATTENDED, ReservationStatus.ABSENT):
        return "Ce jour est passé : la présence a déjà été pointée."
    if rules.cancellation_refund_percent(reservation, now=now, calendar=calendar) is not None:
        return None
    if now >= rules.at_paris_time(reservation.date + datetime.timedelta(days=1), datetime.time(0)):
        return "Ce jour est passé : il ne peut plus être annulé."
    deadline = rules.deadline_for(
        reservation.date,
        rules.DeadlineRule.for_cancellation(reservation.product),
        calendar=calendar,
    )
    local = timezone.localtime(deadline, rules.PARIS)
    return (
        "Cette réservation ne peut plus être annulée : le délai d’annulation est dépassé "
        f"(limite : {rules.WEEKDAY_NAMES[local.weekday()]} {local:%d/%m} à {local:%H:%M})."
    )
