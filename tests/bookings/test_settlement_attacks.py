"""Review of issue 9's day settlement: mixed payments, card orders released or paid late,
closures. Each test states the money the family ends with, through the services and the ledger.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import connection

from shared_apps.common.money import format_euros
from shared_apps.payments.models import Payment
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings import selectors
from tenant_apps.bookings.models import Order, Reservation
from tenant_apps.bookings.services.cancellation import cancel_reservation
from tenant_apps.bookings.services.card_orders import fulfil_checkout, release_order
from tenant_apps.bookings.services.cart import add_to_cart
from tenant_apps.bookings.services.checkout import checkout
from tests.fixtures.billing import give_mandate
from tests.fixtures.bookings import NOW, make_family

pytestmark = pytest.mark.django_db

MON = datetime.date(2026, 12, 7)  # cancellation deadline: Thursday 3 December 12:00


@pytest.fixture
def meal(canteen, commune_a, in_commune):
    with in_commune(commune_a):
        canteen.price_cents = 400
        canteen.sibling_reduction_percent = 50
        canteen.save(update_fields=["price_cents", "sibling_reduction_percent"])
    return canteen


@pytest.fixture
def card_ok(stripe_offline):
    """Card payments work (a real localstripe): a card order waits for its payment."""
    return stripe_offline


def balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def book(parent, product, kids, method, day=MON):
    commune = connection.tenant  # the tests run each step inside in_commune(commune_a)
    add_to_cart(
        commune=commune,
        user=parent,
        product_id=product.pk,
        child_ids=[k.pk for k in kids],
        dates=[day],
    )
    return checkout(commune=commune, user=parent, payment_method=method).order


def reservation_of(kid, day=MON):
    return Reservation.objects.get(child_id=kid.pk, date=day, status="booked")


def card_arrives(order, commune):
    """What the payments app does once Stripe's signed webhook says the order's card payment
    succeeded (the webhook path itself is proven in tests/payments)."""
    order.refresh_from_db()
    fulfil_checkout(Payment.objects.get(pk=order.payment_id))


def test_a_released_card_order_does_not_leave_a_sibling_at_the_sibling_price(
    frozen, meal, card_ok, commune_a, in_commune
):
    """Book the first child by card and never pay, book the second from the wallet at the
    sibling price, let the card order expire: the second child must not keep the reduction
    that only a booked sibling gives."""
    parent = make_family(commune_a, in_commune, meal.service, funds_cents=0)
    lea, hugo = parent.kids
    with in_commune(commune_a):
        unpaid = book(parent, meal, [lea], "card")
        assert unpaid.status == "awaiting_payment"
        credit_top_up(
            source_key="later",
            family_id=parent.family.pk,
            amount_cents=10_000,
            commune=commune_a,
            service_id=meal.service.pk,
        )
        book(parent, meal, [hugo], "wallet")
        release_order(commune=commune_a, order_id=unpaid.pk, now=NOW + datetime.timedelta(hours=1))
        assert list(
            Reservation.objects.filter(status="booked").values_list("child_id", flat=True)
        ) == [hugo.pk]
    # Hugo alone on Monday costs the full price.
    assert 10_000 - balance(parent) == 400


def test_cancel_mixed_wallet_and_pending_card_siblings_then_the_card_arrives(
    frozen, meal, card_ok, commune_a, in_commune
):
    parent = make_family(commune_a, in_commune, meal.service, funds_cents=400)
    lea, hugo = parent.kids
    with in_commune(commune_a):
        paid = book(parent, meal, [lea], "wallet")  # 4,00 € from the wallet
        assert paid.status == "paid"
        pending = book(parent, meal, [hugo], "card")  # 2,00 € by card, pending
        assert pending.status == "awaiting_payment" and pending.card_cents == 200
        cancel_reservation(commune=commune_a, user=parent, reservation_id=reservation_of(lea).pk)
        cancel_reservation(commune=commune_a, user=parent, reservation_id=reservation_of(hugo).pk)
        card_arrives(Order.objects.get(pk=pending.pk), commune_a)
    # Paid 4,00 € + 2,00 €, nothing booked: everything back in the pocket.
    assert balance(parent) == 600
    call_command("verify_ledger")


def test_what_the_cancel_answer_says_matches_where_the_money_goes(
    frozen, meal, card_ok, commune_a, in_commune
):
    """Léa paid from the wallet, Hugo by direct debit. Cancelling Léa credits 2,00 €; cancelling
    Hugo then empties the day: Hugo's day is not invoiced and the 2,00 € Léa's cancellation
    kept come back to the pocket. The answer must not say that 4,00 € are "not invoiced"."""
    from tenant_apps.bookings.wording import refund_sentence

    parent = make_family(commune_a, in_commune, meal.service, funds_cents=400)
    lea, hugo = parent.kids
    give_mandate(commune_a, parent.family.pk)
    with in_commune(commune_a):
        book(parent, meal, [lea], "wallet")
        book(parent, meal, [hugo], "direct_debit")
        cancel_reservation(commune=commune_a, user=parent, reservation_id=reservation_of(lea).pk)
        assert balance(parent) == 200
        result = cancel_reservation(
            commune=commune_a, user=parent, reservation_id=reservation_of(hugo).pk
        )
        sentence = refund_sentence(
            result.reservation, result.refund_cents, done=True, split=result.split
        )
    assert balance(parent) == 400
    assert result.split == {"invoice": 200, "service": 200}
    assert sentence == (
        "Ce jour ne sera pas facturé. Ce qu’une annulation précédente de ce jour avait retenu "
        f"revient aussi : {format_euros(200)} sont recrédités sur votre porte-monnaie, pour le "
        "service « Cantine »."
    )


def test_a_pending_card_cancel_says_what_comes_back_now_and_what_only_if_the_card_arrives(
    frozen, meal, card_ok, commune_a, in_commune
):
    """Léa (wallet, 4,00 €) was cancelled first and kept 2,00 € for Hugo's sibling price; Hugo
    (card, 2,00 €, pending) is then cancelled: Léa's 2,00 € come back now, Hugo's 2,00 € only
    if the card money arrives — and the sentences say so."""
    from tenant_apps.bookings.wording import refund_sentence

    parent = make_family(commune_a, in_commune, meal.service, funds_cents=400)
    lea, hugo = parent.kids
    with in_commune(commune_a):
        book(parent, meal, [lea], "wallet")  # 4,00 € from the wallet
        pending = book(parent, meal, [hugo], "card")  # 2,00 € by card, pending
        assert pending.amount_cents == 200
        cancel_reservation(commune=commune_a, user=parent, reservation_id=reservation_of(lea).pk)
        assert balance(parent) == 200  # Léa's cancellation gives back 2,00 €, keeps 2,00 €
        hugo_day = reservation_of(hugo)
        (listed,) = selectors.with_cancellation_terms([hugo_day], commune=commune_a)
        before = refund_sentence(
            listed, listed.refund_if_cancelled_cents, split=listed.refund_split_if_cancelled
        )
        result = cancel_reservation(commune=commune_a, user=parent, reservation_id=hugo_day.pk)
        after = refund_sentence(
            result.reservation, result.refund_cents, done=True, split=result.split
        )
        assert balance(parent) == 400  # Léa's kept 2,00 € now
        card_arrives(Order.objects.get(pk=pending.pk), commune_a)
    assert balance(parent) == 600  # and Hugo's 2,00 € once the card paid them
    call_command("verify_ledger")
    assert result.split == {"service": 200, "pending_card": 200}
    assert before.startswith("Si le paiement par carte aboutit") and "revient aussi" in before
    assert after == (
        f"Si le paiement par carte aboutit, {format_euros(200)} seront versés sur votre "
        "porte-monnaie, pour le service « Cantine ». Ce qu’une annulation précédente de ce jour "
        f"avait retenu revient aussi : {format_euros(200)} sont recrédités sur votre "
        "porte-monnaie, pour le service « Cantine »."
    )


def test_a_sibling_booked_while_the_card_was_pending_gets_the_reduction_when_it_arrives(
    frozen, meal, card_ok, commune_a, in_commune
):
    """A pending place is not a sibling yet (Hugo pays the full price), but once Léa's card
    money arrives the day is settled: Hugo gets the sibling reduction back in the pocket."""
    parent = make_family(commune_a, in_commune, meal.service, funds_cents=0)
    lea, hugo = parent.kids
    with in_commune(commune_a):
        pending = book(parent, meal, [lea], "card")
        credit_top_up(
            source_key="later",
            family_id=parent.family.pk,
            amount_cents=10_000,
            commune=commune_a,
            service_id=meal.service.pk,
        )
        assert book(parent, meal, [hugo], "wallet").amount_cents == 400
        card_arrives(pending, commune_a)
    # 4,00 € by card for Léa, 2,00 € net from the wallet for Hugo: the day costs 6,00 €.
    assert 10_000 - balance(parent) == 200
    call_command("verify_ledger")
