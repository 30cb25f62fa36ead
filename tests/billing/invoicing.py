"""Helpers of the invoicing tests: families booking December by direct debit."""

from __future__ import annotations

import datetime

import time_machine

from tenant_apps.bookings.services.cancellation import cancel_reservation
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import checkout
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import NOW

DECEMBER = datetime.date(2026, 12, 1)
TUE, THU, FRI = (datetime.date(2026, 12, d) for d in (8, 10, 11))
# The month is over: invoicing December is possible from 1 January.
JANUARY_2ND = datetime.datetime(2027, 1, 2, 6, tzinfo=datetime.UTC)


def book_december(commune, in_commune, canteen, parent, *, kids=None, days=(TUE, THU, FRI)):
    """Book `days` for `kids` (default: all) by direct debit; returns the reservations."""
    give_mandate(commune, parent.family.pk)
    with time_machine.travel(NOW, tick=False), in_commune(commune):
        add_to_cart(
            commune=commune,
            user=parent,
            product_id=canteen.pk,
            child_ids=[k.pk for k in (kids or parent.kids)],
            dates=list(days),
        )
        return checkout(commune=commune, user=parent, payment_method="direct_debit").reservations


def cancel_in_time(commune, in_commune, parent, reservation):
    with time_machine.travel(NOW, tick=False), in_commune(commune):
        return cancel_reservation(commune=commune, user=parent, reservation_id=reservation.pk)
