"""No card payment starts for a commune deactivated after its lookup was cached."""

from __future__ import annotations

import pytest

from shared_apps.payments.models import Payment
from shared_apps.payments.services import start_checkout_payment
from tenants.models import Commune
from tenants.selectors import commune_for_slug
from tenants.services import CommuneInactive

pytestmark = pytest.mark.django_db


def test_a_top_up_for_a_service_of_a_closed_commune_is_refused(
    auth_api, family, cantine, commune_a
):
    assert commune_for_slug("commune-a") is not None  # cached in this process
    Commune.objects.filter(pk=commune_a.pk).update(is_active=False)  # no process told

    response = auth_api.post(
        "/api/v1/wallet/top-ups",
        {"amount_cents": 2000, "scope": "service", "commune_slug": "commune-a", "service_id": 7},
    )

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "commune_inactive"
    assert not Payment.objects.exists()


def test_a_card_payment_for_an_order_of_a_closed_commune_does_not_start(
    stripe_offline, family, commune_a
):
    Commune.objects.filter(pk=commune_a.pk).update(is_active=False)

    with pytest.raises(CommuneInactive):
        start_checkout_payment(
            user=family.guardians.get().user,
            family_id=family.pk,
            amount_cents=760,
            commune=commune_a,
            metadata={"schema": commune_a.schema_name, "order_id": 1},
        )

    assert not Payment.objects.exists()
