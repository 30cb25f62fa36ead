"""SEPA mandates: set up through a Stripe SetupIntent confirmed with the IBAN (localstripe),
recorded from what Stripe says server-side, replaceable, revocable; "Prélèvement" is offered
and taken only with an active mandate with the commune."""

from __future__ import annotations

import json
import time

import pytest

from shared_apps.payments.models import WebhookEvent
from tenant_apps.billing.models import Mandate, MandateStatus
from tenant_apps.bookings.models import Order, Reservation
from tests.billing.conftest import IBAN_OK
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures.bookings import NOW, make_family
from tests.payments.offline import sign

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"
MONDAY = "2026-12-07"


def _set_up(parent, sepa, iban=IBAN_OK) -> dict:
    """Start a mandate through the API and confirm it as the IBAN page's Stripe.js does."""
    response = parent.api.post(f"{BASE}/mandates")
    assert response.status_code == 201, response.json()
    started = response.json()
    status, body = sepa.confirm(started["client_secret"], iban)
    assert status == 200, body
    return started


def _fill_cart(parent, canteen):
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": [MONDAY]},
    )
    assert response.status_code == 201, response.json()


def test_a_mandate_is_recorded_from_stripe_and_shown(
    stripe_offline, sepa, parent, commune_a, in_commune
):
    started = _set_up(parent, sepa)
    assert started["mandate"]["status"] == "pending"
    assert started["publishable_key"] and started["client_secret"].startswith("seti_")

    response = parent.api.post(f"{BASE}/mandates/{started['mandate']['id']}/sync")

    assert response.status_code == 200
    mandate = response.json()
    assert mandate["status"] == "active"
    assert mandate["iban_last4"] == "2606" and mandate["country"] == "FR"
    assert mandate["mandate_reference"]
    listed = parent.api.get(f"{BASE}/mandates").json()
    assert listed["active"]["id"] == mandate["id"] and listed["history"] == []
    with in_commune(commune_a):
        row = Mandate.objects.get(pk=mandate["id"])
        assert row.family_id == parent.family.pk
        assert row.payment_method_ref.startswith("pm_") and row.customer_ref.startswith("cus_")
        assert row.client_secret == ""  # not needed any more once set up


def test_an_unconfirmed_set_up_stays_pending_and_direct_debit_is_refused(
    stripe_offline, frozen, parent, canteen, commune_a, in_commune
):
    started = parent.api.post(f"{BASE}/mandates").json()  # the IBAN never confirmed
    assert (
        parent.api.post(f"{BASE}/mandates/{started['mandate']['id']}/sync").json()["status"]
        == "pending"
    )
    _fill_cart(parent, canteen)
    assert parent.api.get(f"{BASE}/cart").json()["payment_methods"] == ["wallet", "card"]

    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "no_active_mandate"
    assert "mandat SEPA actif" in error["message"]
    assert len(parent.api.get(f"{BASE}/cart").json()["items"]) == 1  # the cart is kept
    with in_commune(commune_a):
        assert not Reservation.objects.exists() and not Order.objects.exists()


def test_with_an_active_mandate_direct_debit_books(parent, canteen, commune_a):
    # The mandate written as sync_mandate records it (its set-up with Stripe is tested above).
    from tests.fixtures.billing import give_mandate

    give_mandate(commune_a, parent.family.pk, user=parent)
    with __import__("time_machine").travel(NOW, tick=False):
        _fill_cart(parent, canteen)
        assert "direct_debit" in parent.api.get(f"{BASE}/cart").json()["payment_methods"]
        response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "to_invoice"


def test_a_new_mandate_replaces_the_active_one_once_confirmed(
    stripe_offline, sepa, parent, commune_a, in_commune
):
    first = _set_up(parent, sepa)["mandate"]["id"]
    parent.api.post(f"{BASE}/mandates/{first}/sync")

    second = parent.api.post(f"{BASE}/mandates").json()
    # Until the new IBAN is confirmed, the old mandate still works.
    assert parent.api.get(f"{BASE}/mandates").json()["active"]["id"] == first
    sepa.confirm(second["client_secret"], "DE89370400440532013000")
    parent.api.post(f"{BASE}/mandates/{second['mandate']['id']}/sync")

    listed = parent.api.get(f"{BASE}/mandates").json()
    assert listed["active"]["id"] == second["mandate"]["id"]
    assert listed["active"]["iban_last4"] == "3000"
    assert [(m["id"], m["status"]) for m in listed["history"]] == [(first, "replaced")]


def test_a_revoked_mandate_stops_direct_debit(
    stripe_offline, sepa, frozen, parent, canteen, commune_a, in_commune
):
    mandate_id = _set_up(parent, sepa)["mandate"]["id"]
    parent.api.post(f"{BASE}/mandates/{mandate_id}/sync")

    response = parent.api.post(f"{BASE}/mandates/{mandate_id}/revoke")

    assert response.status_code == 200
    assert response.json()["mandate"]["status"] == "revoked"
    assert parent.api.get(f"{BASE}/mandates").json()["active"] is None
    _fill_cart(parent, canteen)
    assert "direct_debit" not in parent.api.get(f"{BASE}/cart").json()["payment_methods"]
    refused = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})
    assert refused.json()["error"]["code"] == "no_active_mandate"
    again = parent.api.post(f"{BASE}/mandates/{mandate_id}/revoke")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "mandate_not_revocable"


def test_a_set_up_revoked_before_confirmation_stays_revoked(
    stripe_offline, sepa, parent, commune_a, in_commune
):
    started = parent.api.post(f"{BASE}/mandates").json()
    mandate_id = started["mandate"]["id"]
    parent.api.post(f"{BASE}/mandates/{mandate_id}/revoke")
    sepa.confirm(started["client_secret"])  # the IBAN confirmed afterwards, in another tab

    assert parent.api.post(f"{BASE}/mandates/{mandate_id}/sync").json()["status"] == "revoked"
    assert parent.api.get(f"{BASE}/mandates").json()["active"] is None


def _setup_event(setup_intent: dict, event_type="setup_intent.succeeded", event_id=None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{setup_intent['id']}",
            "object": "event",
            "type": event_type,
            "created": int(time.time()),
            "livemode": False,
            "data": {"object": setup_intent},
        }
    ).encode()


def _post_webhook(api, body: bytes, signature: str, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return api.generic(
            "POST",
            "/api/v1/payments/stripe/webhook",
            body,
            content_type="application/json; charset=utf-8",
            HTTP_STRIPE_SIGNATURE=signature,
        )


def test_the_signed_webhook_activates_the_mandate_from_stripes_state(
    stripe_offline, sepa, api, parent, commune_a, in_commune, django_capture_on_commit_callbacks
):
    started = _set_up(parent, sepa)
    setup_id = started["client_secret"].split("_secret_")[0]
    body = _setup_event(sepa.setup_intent(setup_id))

    response = _post_webhook(api, body, sign(body), django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert WebhookEvent.objects.get(event_id=f"evt_{setup_id}").processed_at is not None
    with in_commune(commune_a):
        mandate = Mandate.objects.get(pk=started["mandate"]["id"])
        assert mandate.status == MandateStatus.ACTIVE and mandate.iban_last4 == "2606"


def test_a_webhook_that_lies_moves_nothing(
    stripe_offline, api, parent, commune_a, in_commune, django_capture_on_commit_callbacks
):
    """A signed event saying "succeeded" for a set-up Stripe has not confirmed: the state is
    read again from Stripe, which says it is not, so the mandate stays pending. An unsigned
    one is refused outright."""
    started = parent.api.post(f"{BASE}/mandates").json()
    setup_id = started["client_secret"].split("_secret_")[0]
    claimed = {
        "id": setup_id,
        "object": "setup_intent",
        "status": "succeeded",
        "payment_method": "pm_forged",
        "metadata": {"schema": commune_a.schema_name},
    }
    body = _setup_event(claimed)
    assert _post_webhook(api, body, "t=1,v1=bad", django_capture_on_commit_callbacks).status_code
    assert _post_webhook(api, body, sign(body), django_capture_on_commit_callbacks).status_code
    with in_commune(commune_a):
        assert Mandate.objects.get(pk=started["mandate"]["id"]).status == MandateStatus.PENDING

    other = _setup_event({**claimed, "metadata": {"schema": "c_nowhere"}}, event_id="evt_x")
    response = _post_webhook(api, other, sign(other), django_capture_on_commit_callbacks)
    assert response.status_code == 200  # stored, moves nothing


# --- pages ----------------------------------------------------------------------------------


def test_the_pages_set_up_show_and_revoke_a_mandate(
    stripe_offline, sepa, client, parent, commune_a, in_commune
):
    client.force_login(parent)
    page = client.get("/c/commune-a/prelevement/").content.decode()
    assert "Aucun mandat actif" in page and "Mettre en place le prélèvement" in page

    response = client.post("/c/commune-a/prelevement/nouveau/")
    assert response.status_code == 302
    iban_page = client.get(response["Location"]).content.decode()
    with in_commune(commune_a):
        mandate = Mandate.objects.get(family_id=parent.family.pk)
    assert f'data-client-secret="{mandate.client_secret}"' in iban_page
    assert "Commune A (créancier)" in iban_page
    sepa.confirm(mandate.client_secret)

    back = client.get(f"/c/commune-a/prelevement/{mandate.pk}/retour/", follow=True)
    text = back.content.decode()
    assert "Mandat de prélèvement enregistré (compte se terminant par 2606)" in text
    assert "Actif" in text and "2606" in text

    revoked = client.post(f"/c/commune-a/prelevement/{mandate.pk}/revoquer/", follow=True)
    assert "Mandat révoqué" in revoked.content.decode()
    assert "Aucun mandat actif" in revoked.content.decode()
    with in_commune(commune_a):
        assert Mandate.objects.get(pk=mandate.pk).status == MandateStatus.REVOKED


def test_the_page_checkout_refuses_direct_debit_without_a_mandate(
    frozen, client, parent, canteen, commune_a, in_commune
):
    _fill_cart(parent, canteen)
    client.force_login(parent)
    cart = client.get("/c/commune-a/panier/").content.decode()
    assert 'value="direct_debit"' not in cart and "Gérer mon mandat de prélèvement" in cart

    response = client.post(
        "/c/commune-a/panier/payer/", {"payment_method": "direct_debit"}, follow=True
    )

    assert "mandat SEPA actif" in response.content.decode()
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


# --- isolation ------------------------------------------------------------------------------


@pytest.fixture
def other_family(commune_a, in_commune, canteen):
    return make_family(commune_a, in_commune, canteen.service, funds_cents=0)


def test_another_familys_mandate_is_a_404(
    stripe_offline, sepa, client, parent, other_family, commune_a, in_commune
):
    mandate_id = _set_up(parent, sepa)["mandate"]["id"]
    parent.api.post(f"{BASE}/mandates/{mandate_id}/sync")

    for path in (f"{BASE}/mandates/{mandate_id}/sync", f"{BASE}/mandates/{mandate_id}/revoke"):
        assert other_family.api.post(path).status_code == 404
    assert other_family.api.get(f"{BASE}/mandates").json() == {"active": None, "history": []}
    client.force_login(other_family)
    assert client.get(f"/c/commune-a/prelevement/{mandate_id}/iban/").status_code == 404
    assert client.get(f"/c/commune-a/prelevement/{mandate_id}/retour/").status_code == 404
    assert client.post(f"/c/commune-a/prelevement/{mandate_id}/revoquer/").status_code == 404
    assert "2606" not in client.get("/c/commune-a/prelevement/").content.decode()
    with in_commune(commune_a):
        assert Mandate.objects.get(pk=mandate_id).status == MandateStatus.ACTIVE


def test_a_mandate_is_only_the_communes_that_holds_it(
    stripe_offline, sepa, client, parent, commune_a, commune_b, in_commune
):
    mandate_id = _set_up(parent, sepa)["mandate"]["id"]
    parent.api.post(f"{BASE}/mandates/{mandate_id}/sync")

    other = "/c/commune-b/api/v1"
    assert parent.api.get(f"{other}/mandates").json()["active"] is None
    assert parent.api.post(f"{other}/mandates/{mandate_id}/revoke").status_code == 404
    assert parent.api.post(f"{other}/mandates/{mandate_id}/sync").status_code == 404
    # Commune B's staff see nothing of it either: the pages are the family's own.
    staff_b = UserFactory()
    MembershipFactory(user=staff_b, commune=commune_b)
    client.force_login(staff_b)
    assert client.post(f"/c/commune-b/prelevement/{mandate_id}/revoquer/").status_code == 404
    assert client.get(f"/c/commune-a/prelevement/{mandate_id}/iban/").status_code == 404
    with in_commune(commune_a):
        assert Mandate.objects.get(pk=mandate_id).status == MandateStatus.ACTIVE


def test_anonymous_is_refused(api, client, parent, commune_a):
    assert api.get(f"{BASE}/mandates").status_code == 401
    assert api.post(f"{BASE}/mandates").status_code == 401
    assert api.post(f"{BASE}/mandates/1/revoke").status_code == 401
    for path in ("/c/commune-a/prelevement/", "/c/commune-a/prelevement/1/iban/"):
        response = client.get(path)
        assert response.status_code == 302 and "next=" in response["Location"]
    assert client.post("/c/commune-a/prelevement/nouveau/").status_code == 302


def test_a_revoked_or_replaced_mandate_is_detached_at_stripe_and_never_debited(
    stripe_offline, sepa, parent, canteen, commune_a, in_commune, send_mail_now
):
    import time_machine

    from shared_apps.payments.models import Payment
    from tenant_apps.billing.errors import NoActiveMandate
    from tenant_apps.billing.services.collection import collect_invoice, collect_month
    from tenant_apps.billing.services.invoicing import build_invoices
    from tests.billing.invoicing import DECEMBER, JANUARY_2ND
    from tests.payments.offline import call_localstripe

    def customer_of(pm: str):
        status, body = call_localstripe("GET", f"{stripe_offline}/v1/payment_methods/{pm}")
        assert status == 200, body
        return body["customer"]

    def attached(mandate_id: int) -> Mandate:
        """Stripe attaches a SetupIntent's method to its customer; localstripe does not: here."""
        with in_commune(commune_a):
            mandate = Mandate.objects.get(pk=mandate_id)
        status, body = call_localstripe(
            "POST",
            f"{stripe_offline}/v1/payment_methods/{mandate.payment_method_ref}/attach",
            {"customer": mandate.customer_ref},
        )
        assert status == 200 and body["customer"] == mandate.customer_ref, body
        return mandate

    first = _set_up(parent, sepa)["mandate"]["id"]
    parent.api.post(f"{BASE}/mandates/{first}/sync")
    attached(first)
    with time_machine.travel(NOW, tick=False):
        _fill_cart(parent, canteen)
        booked = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})
        assert booked.status_code == 201, booked.json()
    second = parent.api.post(f"{BASE}/mandates").json()
    sepa.confirm(second["client_secret"], "DE89370400440532013000")
    with send_mail_now():
        parent.api.post(f"{BASE}/mandates/{second['mandate']['id']}/sync")
    attached(second["mandate"]["id"])
    with in_commune(commune_a):
        old, new = (Mandate.objects.get(pk=pk) for pk in (first, second["mandate"]["id"]))
    assert old.status == MandateStatus.REPLACED and customer_of(old.payment_method_ref) is None
    assert customer_of(new.payment_method_ref)  # the active one is still usable

    with send_mail_now():
        assert parent.api.post(f"{BASE}/mandates/{new.pk}/revoke").status_code == 200
    assert customer_of(new.payment_method_ref) is None  # Stripe would refuse a debit now

    with time_machine.travel(JANUARY_2ND, tick=False), in_commune(commune_a):
        (invoice,) = build_invoices(commune=commune_a, month=DECEMBER).invoices
        assert collect_month(commune=commune_a, month=DECEMBER) == 0
        with pytest.raises(NoActiveMandate):
            collect_invoice(commune=commune_a, invoice_id=invoice.pk)
    assert not Payment.objects.filter(purpose="invoice").exists()
