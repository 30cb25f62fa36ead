"""The "Pointage" page: an agent marks the day by taps, adds an unbooked child, uploads a
certificate; refused to other communes' staff, parents and anonymous users."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shared_apps.audit.models import AuditEntry
from tenant_apps.bookings.models import MedicalCertificate, Reservation
from tenant_apps.catalog.models import Product, Service, ServiceKind
from tenants.models import Membership
from tests.backoffice.attendance_helpers import (
    DAY,
    ON_THE_DAY,
    PAGE,
    book,
    ledger_is_sound,
    make_agent,
    pocket_cents,
    set_rules,
)
from tests.factories import UserFactory
from tests.fixtures.bookings import make_family
from tests.fixtures.files import pdf_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(commune_a):
    return make_agent(commune_a)


@pytest.fixture
def browser(agent):
    client = Client()
    client.force_login(agent)
    return client


@pytest.fixture
def product_b(commune_b, in_commune):
    with in_commune(commune_b):
        service = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine B")
        return Product.objects.create(service=service, name="Repas B", price_cents=300)


def _row(html: str, child) -> str:
    start = html.index(f'id="enfant-{child.pk}"')
    return html[start : html.index("</li>", start)]


def test_the_agent_marks_the_day_by_taps(
    frozen, browser, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=100)
    book(parent, canteen, parent.kids)
    first, second = parent.kids
    frozen.move_to(ON_THE_DAY)
    page = browser.get(PAGE, {"produit": canteen.pk}).content.decode()
    assert "Pointage" in page and first.first_name in page and second.first_name in page
    assert "État : <strong>Non pointé</strong>" in _row(page, first)
    assert "<strong>2</strong> attendus" in page

    tapped = browser.post(
        PAGE, {"jour": DAY, "produit": canteen.pk, "action": f"present:{first.pk}"}
    )
    assert tapped.status_code == 302 and tapped["Location"].endswith(f"#enfant-{first.pk}")
    page = browser.get(tapped["Location"].split("#")[0]).content.decode()
    assert "État : <strong>Présent</strong>" in _row(page, first)
    assert 'aria-pressed="true"' in _row(page, first)

    browser.post(PAGE, {"jour": DAY, "produit": canteen.pk, "action": f"absent:{second.pk}"})
    followed = browser.get(PAGE, {"jour": DAY, "produit": canteen.pk})
    html = followed.content.decode()
    assert "État : <strong>Absent</strong>" in _row(html, second)
    assert "3,80" in html  # the refund, said on the message and the row
    assert pocket_cents(parent.family.pk) == 10_000 - 380
    assert AuditEntry.objects.filter(action="attendance.view", actor=agent).exists()
    ledger_is_sound()


def test_a_tap_sent_by_the_script_gets_the_row_back(
    frozen, browser, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, absence_refund_percent=100)
    book(parent, canteen, parent.kids[:1])
    kid = parent.kids[0]
    frozen.move_to(ON_THE_DAY)
    tap = {"jour": DAY, "produit": canteen.pk, "action": f"absent:{kid.pk}"}
    reply = browser.post(PAGE, tap, headers={"X-Requested-With": "fetch"})
    assert reply.status_code == 200
    data = reply.json()
    assert data["child"] == kid.pk and data["level"] == "success"
    assert "3,80\u00a0€ remboursés sur le porte-monnaie" in data["message"]
    assert "État : <strong>Absent</strong>" in data["row"]
    assert "<strong>1</strong> absent," in data["counts"]
    frozen.move_to(ON_THE_DAY.replace(day=8))
    refused = browser.post(
        PAGE, {**tap, "action": f"present:{kid.pk}"}, headers={"X-Requested-With": "fetch"}
    )
    assert refused.status_code == 409 and refused.json()["level"] == "error"
    assert "une correction se fait le jour même" in refused.json()["message"]
    assert pocket_cents(parent.family.pk) == 10_000


def test_all_children_present_in_one_tap(frozen, browser, parent, canteen, commune_a, in_commune):
    book(parent, canteen, parent.kids)
    frozen.move_to(ON_THE_DAY)
    browser.post(PAGE, {"jour": DAY, "produit": canteen.pk, "action": "all_present"})
    with in_commune(commune_a):
        assert set(Reservation.objects.values_list("status", flat=True)) == {"attended"}


def test_a_correction_the_next_day_is_refused_with_a_french_message(
    frozen, browser, parent, canteen
):
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    kid = parent.kids[0]
    browser.post(PAGE, {"jour": DAY, "produit": canteen.pk, "action": f"present:{kid.pk}"})
    frozen.move_to(ON_THE_DAY.replace(day=8))
    response = browser.post(
        PAGE, {"jour": DAY, "produit": canteen.pk, "action": f"absent:{kid.pk}"}, follow=True
    )
    html = response.content.decode()
    assert "ne peut plus être modifié : une correction se fait le jour même" in html
    assert "État : <strong>Présent</strong>" in _row(html, kid)


def test_an_unbooked_child_is_found_among_the_enrolled_and_added(
    frozen, browser, canteen, commune_a, commune_b, in_commune, product_b
):
    set_rules(commune_a, canteen, unbooked_presence="billed", unbooked_price_cents=450)
    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=1_000)
    stranger = make_family(commune_b, in_commune, product_b.service, children=1)
    frozen.move_to(ON_THE_DAY)
    found = browser.get(PAGE, {"produit": canteen.pk, "q": "Enfant"}).content.decode()
    assert f'value="add:{family.kids[0].pk}"' in found
    assert f'value="add:{stranger.kids[0].pk}"' not in found  # another commune's child
    assert "4,50" in found
    browser.post(PAGE, {"jour": DAY, "produit": canteen.pk, "action": f"add:{family.kids[0].pk}"})
    page = browser.get(PAGE, {"produit": canteen.pk}).content.decode()
    assert "Présent (sans réservation)" in _row(page, family.kids[0])
    assert pocket_cents(family.family.pk) == 550
    ledger_is_sound()


def test_the_page_says_when_the_rule_refuses_unbooked_children(frozen, browser, canteen):
    frozen.move_to(ON_THE_DAY)
    page = browser.get(PAGE, {"produit": canteen.pk}).content.decode()
    assert "n’accepte pas d’enfant sans réservation" in page
    assert 'name="q"' not in page


def test_the_agent_uploads_a_certificate_and_the_day_is_refunded(
    frozen, browser, agent, parent, canteen, commune_a, in_commune
):
    set_rules(commune_a, canteen, sick_refund_percent=100)
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    kid = parent.kids[0]
    browser.post(PAGE, {"jour": DAY, "produit": canteen.pk, "action": f"absent:{kid.pk}"})
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
    url = f"/c/commune-a/gestion/pointage/reservations/{reservation.pk}/certificat/"
    assert (
        "Déposer un certificat médical"
        in browser.get(PAGE, {"produit": canteen.pk}).content.decode()
    )
    assert browser.post(url, {"file": pdf_file("certif.pdf")}).status_code == 302
    assert pocket_cents(parent.family.pk) == 10_000
    with in_commune(commune_a):
        certificate = MedicalCertificate.objects.get()
    file_url = f"/c/commune-a/gestion/pointage/certificats/{certificate.pk}/"
    assert f'href="{file_url}"' in browser.get(url).content.decode()
    opened = browser.get(file_url)
    assert opened.status_code == 200 and opened["Content-Type"] == "application/pdf"
    assert b"".join(opened.streaming_content).startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action="attendance.certificate_file", actor=agent).exists()
    # A parent cannot open it through the staff address.
    parent_client = Client()
    parent_client.force_login(parent)
    assert parent_client.get(file_url).status_code == 403
    wrong = browser.post(url, {})
    assert "Joignez le certificat médical." in wrong.content.decode()
    ledger_is_sound()


# --- Isolation ---------------------------------------------------------------------------------


def test_the_page_refuses_other_communes_staff_parents_and_anonymous(
    frozen, parent, canteen, commune_b
):
    staff_b = UserFactory()
    Membership.objects.create(user=staff_b, commune=commune_b, role="manager")
    other_staff, parent_client = Client(), Client()
    other_staff.force_login(staff_b)
    parent_client.force_login(parent)
    for client in (other_staff, parent_client):
        assert client.get(PAGE).status_code == 403
        assert client.post(PAGE, {"action": "all_present"}).status_code == 403
    assert Client().get(PAGE).status_code == 302  # to the sign-in page
    api_b = APIClient()
    api_b.force_authenticate(staff_b)
    response = api_b.post(
        "/c/commune-a/api/v1/staff/attendance",
        {"date": DAY, "product_id": canteen.pk},
        format="json",
    )
    assert response.status_code == 403
    assert (
        parent.api.post(
            "/c/commune-a/api/v1/staff/attendance", {"date": DAY, "product_id": canteen.pk}
        ).status_code
        == 403
    )
    assert APIClient().post(
        "/c/commune-a/api/v1/staff/attendance", {"date": DAY, "product_id": canteen.pk}
    ).status_code in (401, 403)


def test_another_communes_ids_are_404(
    frozen, browser, agent, parent, canteen, commune_b, in_commune, product_b
):
    frozen.move_to(ON_THE_DAY)
    assert browser.get(PAGE, {"produit": product_b.pk + 10_000}).status_code == 404
    with in_commune(commune_b):
        service_b = product_b.service
    stranger = make_family(commune_b, in_commune, service_b, children=1, funds_cents=1_000)
    with in_commune(commune_b):
        from tenant_apps.bookings.models import Order

        order = Order.objects.create(
            family_id=stranger.family.pk,
            placed_by=stranger,
            status="paid",
            payment_method="wallet",
            amount_cents=300,
        )
        reservation_b = Reservation.objects.create(
            order=order,
            family_id=stranger.family.pk,
            child_id=stranger.kids[0].pk,
            product=product_b,
            date=DAY,
            price_cents=300,
            paid_by="wallet",
            status="absent",
        )
    # Each commune numbers its own rows: an id of commune B that A does not have is a 404 here
    # (an id both have is A's own row).
    assert (
        browser.get(
            f"/c/commune-a/gestion/pointage/reservations/{reservation_b.pk + 10_000}/certificat/"
        ).status_code
        == 404
    )
    api_404 = agent.api.post(
        "/c/commune-a/api/v1/staff/attendance",
        {"date": DAY, "product_id": product_b.pk + 10_000, "present": []},
        format="json",
    )
    assert api_404.status_code == 404
    assert (
        agent.api.post(
            f"/c/commune-a/api/v1/staff/reservations/{reservation_b.pk + 10_000}/certificate",
            {"file": pdf_file()},
            format="multipart",
        ).status_code
        == 404
    )
    assert browser.get(PAGE, {"produit": "abc"}).status_code == 404
    assert browser.get(PAGE, {"jour": "pas-un-jour", "produit": canteen.pk}).status_code == 200


def test_a_parent_sends_a_certificate_from_my_reservations(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    from tests.backoffice.attendance_helpers import mark

    set_rules(commune_a, canteen, sick_refund_percent=100)
    book(parent, canteen, parent.kids[:1])
    frozen.move_to(ON_THE_DAY)
    mark(agent, canteen, absent=[parent.kids[0].pk])
    with in_commune(commune_a):
        reservation = Reservation.objects.get()
    url = f"/c/commune-a/mes-reservations/{reservation.pk}/certificat/"
    family = Client()
    family.force_login(parent)
    mine = family.get("/c/commune-a/mes-reservations/").content.decode()
    assert f'href="{url}"' in mine
    assert "rembourse le repas" in family.get(url).content.decode()
    assert family.post(url, {"file": pdf_file()}).status_code == 302
    assert pocket_cents(parent.family.pk) == 10_000
    with in_commune(commune_a):
        certificate = MedicalCertificate.objects.get()
    own = family.get(f"/c/commune-a/mes-reservations/certificats/{certificate.pk}/")
    assert own.status_code == 200
    stranger = make_family(commune_a, in_commune, canteen.service, children=1)
    other = Client()
    other.force_login(stranger)
    assert other.get(url).status_code == 404
    assert (
        other.get(f"/c/commune-a/mes-reservations/certificats/{certificate.pk}/").status_code == 404
    )
    ledger_is_sound()
