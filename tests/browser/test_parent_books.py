"""Journey 1: a parent signs in, books a week for two children from the calendar with the keyboard
alone (Tab, Space, Enter: no click), pays from the wallet, finds them in "Mes réservations" and
cancels one day within the deadline, told first what will be refunded. On the way: the browser
speaks French, and the calendar's closed-day notes keep their words whole on a phone."""

from __future__ import annotations

import re
import warnings

import pytest
import time_machine
from playwright.sync_api import expect

from shared_apps.wallet.selectors import pockets_of
from tenant_apps.bookings.models import Reservation
from tests.browser.helpers import FRENCH_CHROMIUM, broken_words, focus_by_tab
from tests.fixtures.bookings import NOW, make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

WEEK = ["2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"]  # Wednesday 9 is closed


@pytest.fixture
def clock():
    """Thursday 3 December 2026, 10:00 in Paris, ticking (the live server must answer)."""
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def test_parent_books_a_week_by_keyboard_pays_from_the_wallet_and_cancels_a_day(
    clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    # Chromium runs in French (--lang=fr-FR and the context's locale): pages and the browser's
    # own widgets (validation bubbles, file and date inputs) speak to a French parent.
    assert page.evaluate("[navigator.language, navigator.languages[0]]") == ["fr-FR", "fr-FR"]
    bubble = page.evaluate(
        "() => { const i = document.createElement('input'); i.type = 'email'; i.value = 'x';"
        " return i.validationMessage; }"
    )
    if FRENCH_CHROMIUM:
        assert "Veuillez" in bubble, bubble
    else:  # Debian's chromium-l10n is not installed: Chromium's own words stay English
        warnings.warn(
            f"chromium-l10n missing, validation bubbles in English: {bubble!r}", stacklevel=1
        )
    sign_in(parent, visit)

    page.goto("/c/commune-a/reserver/")
    visit.check(page, "reserver")
    page.get_by_role("link", name="Réservation repas cantine").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réservation repas cantine")
    visit.check(page, "calendrier")

    # On a phone (390 px), December's closed days ("Vacances de Noël", "Jour férié (Jour de
    # Noël)") are said in whole words: under each week, none cut in two.
    page.set_viewport_size({"width": 390, "height": 844})
    notes = page.locator("tr.week-notes:visible")
    expect(notes.filter(has_text="Vacances de Noël : lun 21, mar 22, jeu 24")).to_have_count(1)
    expect(notes.filter(has_text="Jour férié (Jour de Noël) : ven 25")).to_have_count(1)
    expect(page.locator(".service-days span")).to_have_text(["lundi", "mardi", "jeudi", "vendredi"])
    assert broken_words(page, "table.month .day-state, table.month tr.week-notes li") == []
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.locator("td.day-closed").filter(has_text="Fermé : Vacances de Noël")).to_have_count(
        6
    )

    # Both children are ticked by default; the four open days of the week of 7 December are
    # chosen with Tab and Space only, starting from the top of the page.
    children = page.locator('#booking-form input[name="children"]')
    expect(children).to_have_count(2)
    for i in range(2):
        expect(children.nth(i)).to_be_checked()
    page.locator("body").focus()
    for day in WEEK:
        focus_by_tab(page, f'input[name="dates"][value="{day}"]')
        page.keyboard.press("Space")
    for day in WEEK:
        expect(page.locator(f'input[name="dates"][value="{day}"]')).to_be_checked()
    assert page.locator('input[name="dates"]:checked').count() == 4
    visit.shot(page, "calendrier-coche")
    focus_by_tab(page, '#booking-form button[type="submit"]')
    page.keyboard.press("Enter")

    page.wait_for_url("**/c/commune-a/panier/")
    # One block per day (its date heading), each listing the two children.
    expect(page.locator("table.stack tbody.cart-day")).to_have_count(4)
    expect(page.locator("table.stack tbody.cart-day tr:not(:first-child)")).to_have_count(8)
    expect(page.locator("tfoot")).to_contain_text("30,40\u00a0€")
    visit.check(page, "panier")
    page.locator('input[name="payment_method"][value="wallet"]').check()
    page.get_by_role("button", name=re.compile(r"^Payer 30,40")).click()
    page.wait_for_load_state("load")
    expect(page.locator("main")).to_contain_text("débités de votre porte-monnaie")
    visit.check(page, "paye")
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 3040

    page.goto("/c/commune-a/mes-reservations/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mes réservations")
    expect(page.locator("a.cancel-cross")).to_have_count(8)
    visit.check(page, "mes-reservations")

    page.get_by_role("link", name=re.compile(r"Enfant1 le 10 décembre")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Annuler cette réservation ?")
    expect(page.locator(".message-success")).to_contain_text(
        "3,80\u00a0€ seront recrédités sur votre porte-monnaie"
    )
    visit.check(page, "annuler")
    page.get_by_role("button", name="OK").click()
    page.wait_for_load_state("load")
    expect(page.locator("main")).to_contain_text("Réservation annulée. 3,80\u00a0€ sont recrédités")
    expect(page.locator("a.cancel-cross")).to_have_count(7)
    visit.check(page, "annulee")

    with in_commune(commune_a):
        assert Reservation.objects.filter(status="cancelled").count() == 1
    assert sum(p.balance_cents for p in pockets_of(parent.family.pk)) == 10_000 - 3040 + 380
    assert page.js_errors == []
