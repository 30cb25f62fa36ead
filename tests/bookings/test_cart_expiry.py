"""The cart's one upsert (issue 15): created on first use, kept and pushed back while it lives,
emptied once it has expired."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from tenant_apps.bookings.models import Cart, CartItem
from tenant_apps.bookings.services.cart import add_to_cart
from tests.fixtures.bookings import NOW, make_family

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY = datetime.date(2026, 12, 14), datetime.date(2026, 12, 15)


def _add(commune, parent, canteen, day, now):
    with time_machine.travel(now, tick=False):
        add_to_cart(
            commune=commune,
            user=parent,
            product_id=canteen.pk,
            child_ids=[parent.kids[0].pk],
            dates=[day],
            now=now,
        )


@pytest.mark.parametrize(("minutes", "kept"), [(29, True), (31, False)])
def test_a_cart_keeps_its_days_while_it_lives_and_is_emptied_once_expired(
    commune_a, in_commune, canteen, minutes, kept
):
    parent = make_family(commune_a, in_commune, canteen.service, children=1)
    later = NOW + datetime.timedelta(minutes=minutes)
    with in_commune(commune_a):
        _add(commune_a, parent, canteen, MONDAY, NOW)
        _add(commune_a, parent, canteen, TUESDAY, later)
        days = set(
            CartItem.objects.filter(cart__family_id=parent.family.pk).values_list("date", flat=True)
        )
        assert days == ({MONDAY, TUESDAY} if kept else {TUESDAY})
        cart = Cart.objects.get(family_id=parent.family.pk)
        assert cart.expires_at == later + datetime.timedelta(minutes=30)
