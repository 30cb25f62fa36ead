"""Paying a booking cart by card: places held, paid only when the signed webhook confirms."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from shared_apps.payments.models import Payment
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings import selectors as booking_selectors
from tenant_apps.bookings.models import DayCount, Order, Reservation
from tenant_apps.bookings.services.card_orders import release_unpaid_orders
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import make_family
from tests.payments.offline import CARD_DECLINED, CARD_OK

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


@pytest.fixture
def parent(commune_a, in_commune, canteen):
    """A family with an empty wallet: the card pays everything (the wallet goes first)."""
    return make_family(commune_a, in_commune, canteen.service, funds_cents=0)


@pytest.fixture
def bookable_days(parent, canteen, commune_a, in_commune):
    """The next two days that can really be booked now (time is not frozen: webhooks are
    signed with the real clock)."""
    today = timezone.localdate()
    with in_commune(commune_a):
        days = booking_selectors.calendar(
            commune=commune_a,
            user=parent,
            product=canteen,
            child_id=parent.kids[0].pk,
            start=today,
            end=today + datetime.timedelta(days=45),
        )
    return [d.date.isoformat() for d in days if d.status == "bookable"][:2]


def _checkout_by_card(parent, canteen, days):
    parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": days},
    )
    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "card"})
    assert response.status_code == 201, response.json()
    return response.json()


def test_card_checkout_is_paid_when_the_webhook_confirms(
    stripe_offline, browser, deliver, parent, canteen, bookable_days, commune_a, in_commune
):
    body = _checkout_by_card(parent, canteen, bookable_days)
    assert body["status"] == "awaiting_payment" and body["card_cents"] == 760
    assert body["payment"]["client_secret"] and body["payment"]["publishable_key"]
    payment = Payment.objects.get(pk=body["payment"]["id"])
    with in_commune(commune_a):
        assert Reservation.objects.filter(status="booked").count() == 2  # places are held

    browser.pay(payment.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", payment.provider_ref)

    with in_commune(commune_a):
        order = Order.objects.get(pk=body["order_id"])
        assert order.status == "paid"
    assert (
        sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 0
    )  # nothing in the wallet, nothing taken
    assert (
        LedgerTransaction.objects.filter(source_key__startswith=f"cardpay:{payment.pk}").count()
        == 1
    )

    # Cancelling a card-paid day in time refunds the service's pocket.
    reservation_id = body["reservations"][0]["id"]
    cancelled = parent.api.post(f"{BASE}/reservations/{reservation_id}/cancel").json()
    assert cancelled["refund_cents"] == 380
    assert cancelled["message"] == (
        "Réservation annulée. 3,80\u00a0€ sont recrédités sur votre porte-monnaie, pour le "
        "service « Cantine » (et non sur la carte)."
    )


def test_declined_card_leaves_the_order_unpaid_then_released(
    stripe_offline, browser, deliver, parent, canteen, bookable_days, commune_a, in_commune
):
    body = _checkout_by_card(parent, canteen, bookable_days)
    payment = Payment.objects.get(pk=body["payment"]["id"])
    browser.pay(payment.provider_ref, CARD_DECLINED)
    deliver("payment_intent.payment_failed", payment.provider_ref)
    with in_commune(commune_a):
        assert Order.objects.get(pk=body["order_id"]).status == "awaiting_payment"
        later = timezone.now() + datetime.timedelta(minutes=31)
        assert release_unpaid_orders(commune=commune_a, now=later) == 1
        assert Order.objects.get(pk=body["order_id"]).status == "failed"
        assert not Reservation.objects.filter(status="booked").exists()
        # No place left counted (the canteen has no capacity: it has no counters at all).
        assert not DayCount.objects.exclude(booked=0).exists()
    assert not LedgerTransaction.objects.filter(source_key__startswith="cardpay").exists()


def test_a_card_payment_arriving_after_release_is_credited_not_lost(
    stripe_offline, browser, deliver, parent, canteen, bookable_days, commune_a, in_commune
):
    body = _checkout_by_card(parent, canteen, bookable_days)
    payment = Payment.objects.get(pk=body["payment"]["id"])
    with in_commune(commune_a):
        release_unpaid_orders(
            commune=commune_a, now=timezone.now() + datetime.timedelta(minutes=31)
        )
    browser.pay(payment.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", payment.provider_ref)
    pockets = {p.label: p.balance_cents for p in pockets_of(parent.family.pk)}
    assert sum(pockets.values()) == 760


def _fill_cart(parent, canteen, days) -> list[dict]:
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": days},
    )
    assert response.status_code == 201, response.json()
    return _cart_lines(parent)


def _cart_lines(parent) -> list[tuple]:
    return [
        (i["child_id"], i["product_id"], i["date"], i["price_cents"])
        for i in parent.api.get(f"{BASE}/cart").json()["items"]
    ]


def _my_reservations_page(parent) -> str:
    from django.test import Client

    client = Client()
    client.force_login(parent)
    return client.get("/c/commune-a/mes-reservations/").content.decode()


def test_card_checkout_without_a_provider_keeps_the_cart_and_books_nothing(
    settings, parent, canteen, bookable_days, commune_a, in_commune
):
    settings.STRIPE_SECRET_KEY = ""
    give_mandate(commune_a, parent.family.pk)
    before = _fill_cart(parent, canteen, bookable_days)

    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "card"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "payment_method_unavailable"
    assert error["message"].startswith("Le paiement par carte n’est pas disponible")
    assert "panier est conservé" in error["message"]
    assert error["fields"]["payment_method"] == [
        "Possible : Porte-monnaie, Prélèvement (facture mensuelle)."
    ]
    assert _cart_lines(parent) == before
    assert parent.api.get(f"{BASE}/reservations").json()["count"] == 0
    assert "Annulé" not in _my_reservations_page(parent)
    with in_commune(commune_a):
        assert not Order.objects.exists()
    assert not Payment.objects.exists()


def test_card_checkout_page_without_a_provider_keeps_the_cart(
    settings, client, parent, canteen, bookable_days
):
    settings.STRIPE_SECRET_KEY = ""
    before = _fill_cart(parent, canteen, bookable_days)
    client.force_login(parent)
    page = client.post("/c/commune-a/panier/payer/", {"payment_method": "card"}, follow=True)
    html = page.content.decode()
    assert "Le paiement par carte n’est pas disponible pour le moment" in html
    assert page.redirect_chain[-1][0].endswith("/panier/")
    assert _cart_lines(parent) == before
    assert "Annulé" not in _my_reservations_page(parent)


@pytest.fixture
def provider_down(settings):
    """Keys set, but nothing answers where the provider should be (localstripe down)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"


def test_a_card_payment_that_cannot_start_puts_the_days_back_in_the_cart(
    stripe_offline, settings, commune_a, in_commune, canteen, bookable_days, provider_down
):
    family = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    before = _fill_cart(family, canteen, bookable_days)

    response = family.api.post(f"{BASE}/cart/checkout", {"payment_method": "card"})

    assert response.status_code == 503
    assert "aucun montant n’a été débité" in response.json()["error"]["message"]
    assert _cart_lines(family) == before  # the same days, at the same prices
    assert family.api.get(f"{BASE}/reservations").json()["count"] == 0
    assert "Annulé" not in _my_reservations_page(family)
    # The wallet part (5,00 €) was taken when the order was placed, and given back once.
    assert sum(p.balance_cents for p in pockets_of(family.family.pk)) == 500
    assert LedgerTransaction.objects.filter(source_key__startswith="release:").count() == 1
    with in_commune(commune_a):
        # No place left counted (the canteen has no capacity: it has no counters at all).
        assert not DayCount.objects.exclude(booked=0).exists()
    from django.core.management import call_command

    call_command("verify_ledger")

    # The provider is back: the very same cart can be paid, its places were freed.
    settings.STRIPE_API_BASE = stripe_offline
    again = family.api.post(f"{BASE}/cart/checkout", {"payment_method": "card"})
    assert again.status_code == 201, again.json()
    assert (again.json()["wallet_cents"], again.json()["card_cents"]) == (500, 260)


def test_the_cart_offers_the_card_only_when_it_can_work(
    settings, client, parent, canteen, bookable_days, commune_a
):
    give_mandate(commune_a, parent.family.pk)
    _fill_cart(parent, canteen, bookable_days)
    client.force_login(parent)
    assert 'value="card"' in client.get("/c/commune-a/panier/").content.decode()
    assert parent.api.get(f"{BASE}/cart").json()["payment_methods"] == [
        "wallet",
        "card",
        "direct_debit",
    ]

    settings.STRIPE_SECRET_KEY = ""
    page = client.get("/c/commune-a/panier/").content.decode()
    assert 'value="card"' not in page and 'value="wallet"' in page
    assert parent.api.get(f"{BASE}/cart").json()["payment_methods"] == ["wallet", "direct_debit"]


def test_a_method_the_service_refuses_is_neither_offered_nor_taken(
    parent, canteen, bookable_days, commune_a, in_commune
):
    with in_commune(commune_a):
        canteen.service.payment_methods = ["wallet"]
        canteen.service.save(update_fields=["payment_methods"])
    before = _fill_cart(parent, canteen, bookable_days)
    assert parent.api.get(f"{BASE}/cart").json()["payment_methods"] == ["wallet"]

    response = parent.api.post(f"{BASE}/cart/checkout", {"payment_method": "direct_debit"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_method_not_accepted"
    assert response.json()["error"]["message"] == (
        "« Cantine » n’accepte pas ce moyen de paiement."
    )
    assert _cart_lines(parent) == before


def test_an_empty_cart_offers_no_method(parent):
    assert parent.api.get(f"{BASE}/cart").json()["payment_methods"] == []


def test_cancelling_an_unpaid_card_booking_refunds_nothing_until_the_money_arrives(
    stripe_offline, browser, deliver, parent, canteen, bookable_days
):
    body = _checkout_by_card(parent, canteen, bookable_days)
    payment = Payment.objects.get(pk=body["payment"]["id"])
    cancelled = parent.api.post(
        f"{BASE}/reservations/{body['reservations'][0]['id']}/cancel"
    ).json()
    # Decided now (in time: the full price), paid once the card money arrives.
    assert (cancelled["refund_cents"], cancelled["pocket"]) == (380, "pending_card")
    assert cancelled["message"] == (
        "Réservation annulée. Si le paiement par carte aboutit, 3,80\u00a0€ seront versés sur "
        "votre porte-monnaie, pour le service « Cantine »."
    )
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 0

    browser.pay(payment.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", payment.provider_ref)
    # Paid for two days, one of them cancelled meanwhile: that day's price is in the pocket.
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 380


def test_another_familys_card_order_pages_are_404(
    stripe_offline, client, parent, canteen, bookable_days
):
    from tests.factories import UserFactory

    body = _checkout_by_card(parent, canteen, bookable_days)
    client.force_login(UserFactory())
    assert client.get(f"/c/commune-a/panier/commande/{body['order_id']}/").status_code == 404
    assert client.get(f"/c/commune-a/panier/commande/{body['order_id']}/carte/").status_code == 404


def test_the_card_page_of_an_order_mounts_the_card_element(
    stripe_offline, client, parent, canteen, bookable_days, settings
):
    body = _checkout_by_card(parent, canteen, bookable_days)
    client.force_login(parent)

    page = client.get(f"/c/commune-a/panier/commande/{body['order_id']}/carte/").content.decode()

    assert '<div id="card-element"' in page
    assert f'<script src="{settings.STRIPE_JS_URL}">' in page
    assert f'data-client-secret="{body["payment"]["client_secret"]}"' in page


def test_the_wallet_pays_first_and_the_card_the_rest(
    stripe_offline, browser, deliver, commune_a, in_commune, canteen, bookable_days
):
    family = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    body = _checkout_by_card(family, canteen, bookable_days)
    assert (body["amount_cents"], body["wallet_cents"], body["card_cents"]) == (760, 500, 260)
    assert sum(p.balance_cents for p in pockets_of(family.family.pk)) == 0
    payment = Payment.objects.get(pk=body["payment"]["id"])
    assert payment.amount_cents == 260
    browser.pay(payment.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", payment.provider_ref)
    with in_commune(commune_a):
        assert Order.objects.get(pk=body["order_id"]).status == "paid"


def test_an_unpaid_split_order_gives_the_wallet_part_back_when_released(
    commune_a, in_commune, canteen, bookable_days
):
    family = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    _checkout_by_card(family, canteen, bookable_days)
    with in_commune(commune_a):
        assert (
            release_unpaid_orders(
                commune=commune_a, now=timezone.now() + datetime.timedelta(minutes=31)
            )
            == 1
        )
    assert sum(p.balance_cents for p in pockets_of(family.family.pk)) == 500
    from django.core.management import call_command

    call_command("verify_ledger")


def test_enough_wallet_means_no_card_at_all(commune_a, in_commune, canteen, bookable_days):
    family = make_family(commune_a, in_commune, canteen.service, funds_cents=5000)
    body = _checkout_by_card(family, canteen, bookable_days)
    assert (body["status"], body["wallet_cents"], body["card_cents"]) == ("paid", 760, 0)
    assert "payment" not in body


@pytest.mark.parametrize(
    "cancelled_first", [True, False], ids=["cancel-then-pay", "pay-then-cancel"]
)
@pytest.mark.parametrize("late", [False, True], ids=["in-time", "late"])
def test_the_refund_is_decided_when_the_parent_cancels_whenever_the_card_money_arrives(
    stripe_offline,
    browser,
    deliver,
    parent,
    canteen,
    bookable_days,
    commune_a,
    in_commune,
    cancelled_first,
    late,
):
    """Every order of the two events, in time or after the deadline (late rule: 0 %): the
    pocket gets what the rules gave at the moment of cancelling, never the full price late."""
    from tenant_apps.bookings import rules
    from tenant_apps.bookings.services.cancellation import cancel_reservation
    from tenants.calendar import commune_calendar

    body = _checkout_by_card(parent, canteen, bookable_days)
    payment = Payment.objects.get(pk=body["payment"]["id"])
    day = datetime.date.fromisoformat(body["reservations"][0]["date"])
    deadline = rules.deadline_for(
        day, rules.DeadlineRule.for_cancellation(canteen), calendar=commune_calendar(commune_a)
    )
    when = deadline + datetime.timedelta(minutes=5) if late else timezone.now()

    def cancel():
        with in_commune(commune_a):
            return cancel_reservation(
                commune=commune_a,
                user=parent,
                reservation_id=body["reservations"][0]["id"],
                now=when,
            )

    def pay():
        browser.pay(payment.provider_ref, CARD_OK)
        deliver("payment_intent.succeeded", payment.provider_ref)

    if cancelled_first:
        decided = cancel().refund_cents
        assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 0
        pay()
    else:
        pay()
        decided = cancel().refund_cents

    expected = 0 if late else 380
    assert decided == expected
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == expected
    from django.core.management import call_command

    call_command("verify_ledger")


def test_booking_in_one_step_by_card_is_paid_when_the_webhook_confirms(
    stripe_offline, browser, deliver, parent, canteen, bookable_days, commune_a, in_commune
):
    # The app's « Réserver et payer » (POST reservations) by card: places held, the payment
    # to confirm in the answer, paid once the signed webhook says so.
    response = parent.api.post(
        f"{BASE}/reservations",
        {
            "product_id": canteen.pk,
            "child_ids": [parent.kids[0].pk],
            "dates": bookable_days,
            "payment_method": "card",
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["card_cents"]) == ("awaiting_payment", 760)
    assert body["payment"]["client_secret"] and len(body["reservations"]) == 2
    payment = Payment.objects.get(pk=body["payment"]["id"])

    browser.pay(payment.provider_ref, CARD_OK)
    deliver("payment_intent.succeeded", payment.provider_ref)

    with in_commune(commune_a):
        assert Order.objects.get(pk=body["order_id"]).status == "paid"
        assert Reservation.objects.filter(status="booked").count() == 2
    assert (
        LedgerTransaction.objects.filter(source_key__startswith=f"cardpay:{payment.pk}").count()
        == 1
    )
