"""Guide step 5, cancelling: on Thursday 3 December at 13:00, Tuesday 8 is still within the
cancellation deadline (two working days before, noon: Friday 4 at 12:00) and Monday 7 is past it
(Thursday 3 at 12:00). The parent is told each time, before "OK", what comes back: the whole
price in time; after the deadline, the late rule's share (50 % for this canteen)."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tenant_apps.catalog.models import Product
from tests.fixtures.bookings import NOW, make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def balance(parent) -> int:
    return sum(p.balance_cents for p in pockets_of(parent.family.pk))


def cancel(page, visit, day: str, name: str) -> None:
    page.goto("/c/commune-a/mes-reservations/")
    page.get_by_role("link", name=re.compile(rf"Enfant0 le {day}")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler cette réservation ?")
    visit.check(page, name)


def test_cancel_within_the_deadline_then_after_it(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    with in_commune(commune_a):
        Product.objects.filter(pk=canteen.pk).update(late_cancellation_refund_percent=50)
    parent = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=10_000)
    booked = parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [parent.kids[0].pk],
            "dates": ["2026-12-07", "2026-12-08"],
        },
    )
    assert booked.status_code == 201, booked.content
    paid = parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    assert paid.status_code == 201, paid.content
    assert balance(parent) == 10_000 - 760

    clock.move_to(NOW.replace(hour=13))  # Monday 7's deadline (today, noon) has passed
    sign_in(parent)
    page.goto("/c/commune-a/mes-reservations/")
    expect(page.locator("a.cancel-cross")).to_have_count(2)
    visit.check(page, "mes-reservations")

    # Within the deadline: the whole price comes back to the wallet.
    cancel(page, visit, "8 décembre", "annuler-dans-les-delais")
    expect(page.locator(".message-success")).to_have_text(
        "Vous êtes dans les délais. 3,80\u00a0€ seront recrédités sur votre porte-monnaie, "
        "pour le service « Cantine »."
    )
    page.get_by_role("button", name="OK").click()
    page.wait_for_load_state("load")
    expect(page.locator("main .message-success").first).to_contain_text(
        "Réservation annulée. 3,80\u00a0€ sont recrédités"
    )
    assert balance(parent) == 10_000 - 760 + 380

    # After it: the late rule (50 %), said with the deadline that passed.
    cancel(page, visit, "7 décembre", "annuler-hors-delai")
    expect(page.locator(".message-error")).to_have_text(
        "Le délai d’annulation est dépassé (jeudi 3 décembre à 12:00). Seul 1,90\u00a0€ sera "
        "recrédité sur votre porte-monnaie, pour le service « Cantine »."
    )
    page.get_by_role("button", name="OK").click()
    page.wait_for_load_state("load")
    expect(page.locator("main .message-success").first).to_contain_text(
        "Réservation annulée. Seul 1,90\u00a0€ est recrédité"
    )
    expect(page.locator("a.cancel-cross")).to_have_count(0)
    expect(page.locator("main li").filter(has_text="7 décembre 2026")).to_contain_text(
        "Annulé (1,90\u00a0€ recrédité sur le porte-monnaie ; 1,90\u00a0€ retenu, annulation "
        "après le délai)"
    )
    expect(page.locator("main li").filter(has_text="8 décembre 2026")).to_contain_text(
        "Annulé (3,80\u00a0€ recrédités sur le porte-monnaie)"
    )
    visit.check(page, "annulees")

    with in_commune(commune_a):
        refunds = dict(
            Reservation.objects.filter(status="cancelled").values_list("date", "refund_cents")
        )
    assert refunds == {datetime.date(2026, 12, 8): 380, datetime.date(2026, 12, 7): 190}
    assert balance(parent) == 10_000 - 760 + 380 + 190
    assert page.js_errors == []
