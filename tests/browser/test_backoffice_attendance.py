"""An agent marks the canteen's day on a phone (390×844) by taps, adds a child who came
unbooked, and the page works with the keyboard alone."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django_tenants.utils import tenant_context
from playwright.sync_api import expect

from tenant_apps.bookings.models import Reservation
from tenant_apps.catalog.models import Product
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW, PARIS, make_family

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MONDAY = datetime.datetime(2026, 12, 7, 11, 30, tzinfo=PARIS)


@pytest.fixture
def day_booked(commune_a, in_commune, canteen):
    """Monday 7 December: two families booked (one child with a PAI note), a third enrolled
    but not booked; the rules refund half an absence and accept unbooked children at 5 €."""
    with time_machine.travel(NOW, tick=False):
        booked = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
        other = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=5_000)
        late = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=2_000)
        kid = booked.kids[0]
        kid.notes = "PAI : allergie à l’arachide"
        kid.save(update_fields=["notes"])
        for family in (booked, other):
            family.api.post(
                "/c/commune-a/api/v1/cart/items",
                {
                    "product_id": canteen.pk,
                    "child_ids": [k.pk for k in family.kids],
                    "dates": ["2026-12-07"],
                },
            )
            response = family.api.post(
                "/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"}
            )
            assert response.status_code == 201, response.json()
    with tenant_context(commune_a):
        Product.objects.filter(pk=canteen.pk).update(
            absence_refund_percent=50, unbooked_presence="billed", unbooked_price_cents=500
        )
    return booked, other, late


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def phone(page, chromium_browser, live_server):
    """A touch phone (390×844, touch events) sharing the signed-in cookies of `page`."""
    context = chromium_browser.new_context(
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        base_url=live_server.url,
    )
    context.set_default_timeout(10_000)

    def open_phone():
        context.add_cookies(page.context.cookies())
        touch = context.new_page()
        touch.js_errors = []
        touch.on("pageerror", lambda error: touch.js_errors.append(str(error)))
        return touch

    yield open_phone
    context.close()


def test_an_agent_marks_the_day_on_a_phone(
    day_booked, clock, page, phone, visit, sign_in, commune_a, in_commune, canteen
):
    booked, other, late = day_booked
    agent = UserFactory(first_name="Agnès")
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    sign_in(agent)
    page = phone()
    page.goto("/c/commune-a/gestion/pointage/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pointage")
    expect(page.locator("main")).to_contain_text("PAI : allergie à l’arachide")
    page.set_viewport_size({"width": 390, "height": 844})
    visit.check(page, "pointage")

    page.set_viewport_size({"width": 390, "height": 844})
    first, second = booked.kids
    page.get_by_role("button", name=f"Présent : {first.first_name} {first.last_name}").tap()
    row = page.locator(f"#enfant-{first.pk}")
    expect(row).to_contain_text("État : Présent")
    page.get_by_role("button", name=f"Absent : {second.first_name} {second.last_name}").tap()
    expect(page.locator(f"#enfant-{second.pk}")).to_contain_text("État : Absent")
    expect(page.locator("#pointage-annonce")).to_contain_text("1,90")  # half of 3,80 € back
    visit.check(page, "pointage-tape")
    page.set_viewport_size({"width": 390, "height": 844})

    # A child who came unbooked: found among the enrolled, added present, billed 5 €.
    page.get_by_label("Nom ou prénom de l’enfant").fill(late.kids[0].last_name)
    page.get_by_role("button", name="Chercher").tap()
    added = late.kids[0]
    page.get_by_role("button", name=f"Ajouter présent : {added.first_name} {added.last_name}").tap()
    expect(page.locator(f"#enfant-{added.pk}")).to_contain_text("Présent (sans réservation)")
    page.set_viewport_size({"width": 390, "height": 844})
    visit.check(page, "pointage-fait")

    # The absent child's medical certificate, recorded by the agent.
    page.get_by_role(
        "link", name=f"Déposer un certificat médical pour {second.first_name} {second.last_name}"
    ).tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificat médical")
    page.set_viewport_size({"width": 390, "height": 844})
    visit.check(page, "certificat")
    page.get_by_label("Certificat médical (PDF, JPEG ou PNG)").set_input_files(
        files=[{"name": "certificat.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Enregistrer le certificat").tap()
    expect(page.get_by_role("link", name=re.compile("Certificat du"))).to_be_visible()
    page.get_by_role("link", name="Retour au pointage").tap()
    expect(page.locator(f"#enfant-{second.pk}")).to_contain_text("certificat médical reçu")

    with in_commune(commune_a):
        statuses = dict(Reservation.objects.values_list("child_id", "status"))
    assert statuses[first.pk] == "attended" and statuses[second.pk] == "absent"
    assert statuses[added.pk] == "attended" and statuses[other.kids[0].pk] == "booked"
    assert not page.js_errors


def test_the_page_works_with_the_keyboard(
    day_booked, clock, page, visit, sign_in, commune_a, in_commune, canteen
):
    _, other, _ = day_booked
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    sign_in(agent)
    page.goto("/c/commune-a/gestion/pointage/")
    kid = other.kids[0]
    target = f"Absent : {kid.first_name} {kid.last_name}"
    page.locator("body").focus()
    for _ in range(80):  # Tab until the button, as a keyboard user would
        page.keyboard.press("Tab")
        label = page.evaluate(
            "document.activeElement && document.activeElement.textContent.replace(/\\s+/g, ' ')"
        )
        if target in (label or ""):
            break
    else:
        raise AssertionError(f"« {target} » never got the focus")
    page.keyboard.press("Enter")
    expect(page.locator(f"#enfant-{kid.pk}")).to_contain_text("État : Absent")
    # The focus ring is visible on the next button reached by Tab.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    with in_commune(commune_a):
        assert Reservation.objects.get(child_id=kid.pk).status == "absent"
