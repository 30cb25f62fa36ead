"""A commune deactivated after its lookup was cached takes no more bookings, from no one."""

from __future__ import annotations

import pytest

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Order, Reservation
from tenants.models import Commune, Membership
from tests.factories import UserFactory
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
MON, TUE = "2026-12-07", "2026-12-08"


def _deactivated_behind_the_cache(commune: Commune) -> None:
    """Closed in the database by a change no process has heard of (another process whose
    routing-version bump has not landed, a bulk update): the cached commune still answers."""
    Commune.objects.filter(pk=commune.pk).update(is_active=False)


def _balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def test_checkout_in_a_commune_closed_after_its_lookup_was_cached_is_refused(
    frozen, parent, canteen, commune_a, in_commune
):
    added = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [k.pk for k in parent.kids], "dates": [MON, TUE]},
    )
    assert added.status_code == 201, added.json()
    _deactivated_behind_the_cache(commune_a)

    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "wallet"})

    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "commune_inactive"
    assert response.json()["error"]["message"] == "Cette commune n’accepte plus de réservations."
    assert _balance(parent) == 10_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists()
        assert not Order.objects.exists()


def test_booking_on_behalf_in_a_commune_closed_after_its_lookup_was_cached_is_refused(
    frozen, parent, canteen, commune_a, in_commune
):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    staff = client_for(agent)
    assert staff.get(f"{BASE}/staff/headcount", {"date": MON}).status_code == 200
    _deactivated_behind_the_cache(commune_a)

    response = staff.post(
        f"{BASE}/staff/reservations",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": [MON],
            "consent_note": "Mme Martin, au téléphone",
        },
    )

    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "commune_inactive"
    assert _balance(parent) == 10_000
    with in_commune(commune_a):
        assert not Reservation.objects.exists()
