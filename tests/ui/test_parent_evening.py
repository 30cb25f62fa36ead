"""Issue 11, "the parent's evening": what a signed-in parent sees in the header, on "Mon
compte", on their home page, on "Mes services", at checkout and in the phone menu."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def header_of(html: str) -> str:
    return html.split('<main id="contenu"', 1)[0]


@pytest.fixture
def cards_on(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"


@pytest.fixture
def cards_off(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_PUBLISHABLE_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


# --- 1. "Recharger mon crédit" in the header, the wallet in "Mon compte" -----------------------


def test_header_offers_recharger_mon_credit_to_a_signed_in_parent(client, user, cards_on):
    client.force_login(user)
    header = header_of(text(client.get("/famille/")))
    assert '<a class="button top-up" href="/porte-monnaie/recharger/">Recharger mon crédit</a>' in (
        header
    )


def test_header_has_no_top_up_when_cards_are_off(client, user, cards_off):
    # A top-up is paid by card: no button leading to "paiement par carte indisponible".
    client.force_login(user)
    assert "Recharger mon crédit" not in header_of(text(client.get("/famille/")))


def test_header_has_no_top_up_when_signed_out(client, cards_on):
    assert "Recharger mon crédit" not in header_of(text(client.get("/")))


def test_mon_compte_links_to_the_wallet(client, user):
    client.force_login(user)
    html = text(client.get("/compte/"))
    main = html.split('<main id="contenu"', 1)[1]
    assert re.search(r'<a class="button" href="/porte-monnaie/">Mon porte-monnaie</a>', main)


# --- 2. "Mon espace": where a parent lands ------------------------------------------------------


def _request_in(commune, in_commune, parent, *, name, status):
    from tenant_apps.catalog.models import Service, ServiceKind
    from tenant_apps.enrollments.models import AccessRequest

    with in_commune(commune):
        service = Service.objects.create(kind=ServiceKind.GARDERIE, name=name)
        AccessRequest.objects.create(
            service=service, family_id=parent.family.pk, submitted_by=parent, status=status
        )
    return service


def test_signing_in_lands_on_mon_espace(client, user):
    from tests.factories import PASSWORD

    response = client.post("/compte/connexion/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/mon-espace/"


def test_mon_espace_shows_next_bookings_balance_requests_and_deadlines(
    frozen, client, parent, canteen, commune_a, commune_b, in_commune
):
    from shared_apps.common.money import format_euros
    from shared_apps.families.services import note_commune

    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-07"]},
    )
    assert (
        parent.api.post(
            "/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"}
        ).status_code
        == 201
    )
    note_commune(family_id=parent.family.pk, commune=commune_b)
    _request_in(commune_b, in_commune, parent, name="Garderie du soir", status="info_requested")
    _request_in(commune_b, in_commune, parent, name="Centre de loisirs", status="accepted")

    client.force_login(parent)
    html = text(client.get("/mon-espace/"))
    main = html.split('<main id="contenu"', 1)[1]
    assert "<h1>Mon espace</h1>" in main
    assert '<h2 id="espace-reservations">Mes prochaines réservations</h2>' in main
    assert (
        "<strong>lundi 7 décembre</strong> : Enfant0, Réservation repas cantine (Commune A)" in main
    )
    assert f"Solde : <strong>{format_euros(10_000 - 380)}</strong>" in main
    # In progress only: the accepted request is not listed here.
    assert "Garderie du soir (Commune B)" in main and "Informations demandées" in main
    assert "Centre de loisirs" not in main
    # Thursday 3 December, 10:00: Monday 7 can be booked until today noon (2 working days).
    assert (
        "Réservation repas cantine (Commune A) : pour le lundi 7 décembre, réservez avant le "
        "jeudi 3 décembre à 12:00." in main
    )


def test_mon_espace_shows_nothing_of_another_family_in_the_same_commune(
    frozen, client, parent, canteen, commune_a, in_commune
):
    from shared_apps.common.money import format_euros
    from tests.fixtures.bookings import make_family

    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-07"]},
    )
    parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    neighbour = make_family(commune_a, in_commune, canteen.service, funds_cents=500)

    client.force_login(neighbour)
    main = text(client.get("/mon-espace/")).split('<main id="contenu"', 1)[1]

    # No booking, child or request of the other family.
    assert not re.search(rf"\b{parent.last_name}\b", main)
    assert "lundi 7 décembre</strong>" not in main
    assert f"Solde : <strong>{format_euros(500)}</strong>" in main


def test_mon_espace_of_a_new_parent_says_there_is_nothing_yet(client, user):
    client.force_login(user)
    main = text(client.get("/mon-espace/")).split('<main id="contenu"', 1)[1]
    assert "Aucune réservation à venir." in main
    assert "Aucune demande en cours." in main
    assert "Aucun service ouvert à la réservation pour vos enfants." in main


def test_mon_espace_reads_a_bounded_number_of_queries_per_commune(
    frozen, client, parent, commune_b, in_commune, django_assert_max_num_queries
):
    from shared_apps.families.services import note_commune

    client.force_login(parent)
    client.get("/mon-espace/")  # warm-up: session, calendars
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get("/mon-espace/")
    note_commune(family_id=parent.family.pk, commune=commune_b)
    _request_in(commune_b, in_commune, parent, name="Garderie", status="submitted")
    client.get("/mon-espace/")
    with CaptureQueriesContext(connection) as two:
        client.get("/mon-espace/")
    assert len(two) - len(one) <= 12, [q["sql"] for q in two.captured_queries]


# --- 3. "Mes services": each request's state, per commune and service --------------------------


def _published(commune, service):
    from shared_apps.directory.services import publish_service

    publish_service(
        commune=commune,
        service_id=service.pk,
        kind=service.kind,
        name=service.name,
        description="",
        is_active=True,
    )


def _card_of(html: str, commune_slug: str, service_name: str) -> str:
    section = html.split(
        f'<section class="commune-services" aria-labelledby="commune-{commune_slug}">'
    )[1]
    section = section.split("</section>")[0]
    return section.split(f"<h3>{service_name}</h3>")[1].split("</li>")[0]


def test_mes_services_shows_the_state_of_each_request_per_commune_and_service(
    client, parent, canteen, commune_a, commune_b, in_commune
):
    from shared_apps.families.services import note_commune

    _published(commune_a, canteen.service)
    note_commune(family_id=parent.family.pk, commune=commune_b)
    for name, status in [
        ("Garderie du soir", "info_requested"),
        ("Centre de loisirs", "rejected"),
        ("Garderie du matin", "submitted"),
    ]:
        _published(commune_b, _request_in(commune_b, in_commune, parent, name=name, status=status))
    with in_commune(commune_b):
        from tenant_apps.catalog.models import Service, ServiceKind

        untouched = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine B")
    _published(commune_b, untouched)

    client.force_login(parent)
    html = text(client.get("/services/"))
    accepted = _card_of(html, "commune-a", "Cantine")
    assert 'Ma demande : <strong class="badge badge-ok">Acceptée</strong>' in accepted
    assert 'href="/c/commune-a/reserver/"' in accepted
    info = _card_of(html, "commune-b", "Garderie du soir")
    assert 'Ma demande : <strong class="badge badge-warn">Informations demandées</strong>' in info
    assert "Compléter ma demande" in info and 'href="/c/commune-b/demandes/"' in info
    assert "Refusée</strong>" in _card_of(html, "commune-b", "Centre de loisirs")
    assert "Demander l’accès" in _card_of(html, "commune-b", "Centre de loisirs")
    assert "En attente</strong>" in _card_of(html, "commune-b", "Garderie du matin")
    fresh = _card_of(html, "commune-b", "Cantine B")
    assert "Ma demande" not in fresh and "Demander l’accès" in fresh


def test_mes_services_of_another_family_shows_no_state(client, parent, canteen, commune_a):
    from tests.factories import UserFactory

    _published(commune_a, canteen.service)
    client.force_login(UserFactory())
    card = _card_of(text(client.get("/services/")), "commune-a", "Cantine")
    assert "Ma demande" not in card and "Demander l’accès" in card


def test_mes_services_signed_out_shows_no_state(client, parent, canteen, commune_a):
    _published(commune_a, canteen.service)
    card = _card_of(text(client.get("/services/")), "commune-a", "Cantine")
    assert "Ma demande" not in card


# --- 4. An insufficient balance at checkout: the balance, what is missing, the ways out ----------


@pytest.fixture
def short_parent(frozen, commune_a, in_commune, canteen):
    """5 € in the canteen's pocket, two children in the cart on two days (4 × 3,80 €)."""
    from tests.fixtures.bookings import make_family

    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=500)
    response = parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {
            "product_id": canteen.pk,
            "child_ids": [k.pk for k in parent.kids],
            "dates": ["2026-12-07", "2026-12-08"],
        },
    )
    assert response.status_code == 201, response.json()
    return parent


def test_cart_says_the_wallet_falls_short_and_offers_top_up_or_card(client, short_parent, cards_on):
    from shared_apps.common.money import format_euros

    client.force_login(short_parent)
    main = text(client.get("/c/commune-a/panier/")).split('<main id="contenu"', 1)[1]
    assert '<h2 id="solde-insuffisant">Solde du porte-monnaie insuffisant</h2>' in main
    assert (
        f"Votre porte-monnaie peut payer <strong>{format_euros(500)}</strong> de ce panier "
        f"({format_euros(1520)}) : il manque <strong>{format_euros(1020)}</strong>." in main
    )
    assert '<a class="button" href="/porte-monnaie/recharger/">Recharger mon crédit</a>' in main
    assert f"Payer le reste par carte ({format_euros(1020)})" in main
    assert '<input type="hidden" name="payment_method" value="card">' in main


def test_cart_without_cards_offers_the_town_hall_and_no_card(client, short_parent, cards_off):
    client.force_login(short_parent)
    main = text(client.get("/c/commune-a/panier/")).split('<main id="contenu"', 1)[1]
    assert "Solde du porte-monnaie insuffisant" in main
    assert "Rechargez votre porte-monnaie en mairie" in main
    assert "Payer le reste par carte" not in main


def test_cart_paid_in_full_by_the_wallet_says_nothing_of_a_shortfall(
    frozen, client, parent, canteen, cards_on
):
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": ["2026-12-07"]},
    )
    client.force_login(parent)
    assert "Solde du porte-monnaie insuffisant" not in text(client.get("/c/commune-a/panier/"))


# --- 5. The phone cart: one block per day, listing the children and their prices --------------


def test_cart_groups_each_day_children_in_one_block(client, short_parent):
    from shared_apps.common.money import format_euros

    client.force_login(short_parent)
    main = text(client.get("/c/commune-a/panier/")).split('<main id="contenu"', 1)[1]
    table = main.split('<table class="stack cart">', 1)[1].split("</table>", 1)[0]
    blocks = table.split('<tbody class="cart-day">')[1:]
    assert len(blocks) == 2  # Monday 7 and Tuesday 8 December, two children each
    heads = [re.search(r'class="cart-day-head">([^<]+)</th>', block)[1] for block in blocks]
    assert heads == ["lundi 7 décembre", "mardi 8 décembre"]
    for block in blocks:
        names = re.findall(r'<td data-label="Enfant"><strong>([^<]+)</strong></td>', block)
        assert names == ["Enfant0", "Enfant1"]
        assert block.count(f'<td class="num" data-label="Prix">{format_euros(380)}</td>') == 2
    assert '<th scope="rowgroup" colspan="4" class="cart-day-head">' in table


# --- 6. The phone menu: no sideways scroll; the parent's own tabs inside a commune -------------


def test_menu_inside_a_commune_keeps_the_parent_own_tabs(client, parent):
    client.force_login(parent)
    header = header_of(text(client.get("/c/commune-a/reserver/")))
    assert 'aria-label="Menu de Commune A"' in header
    family_nav = header.split(
        '<nav class="main-nav account-nav wrap" aria-label="Mon espace famille">'
    )[1]
    family_nav = family_nav.split("</nav>")[0]
    for href, label in [
        ("/mon-espace/", "Mon espace"),
        ("/compte/", "Mon compte"),
        ("/famille/", "Mes filiations"),
        ("/services/", "Mes services"),
        ("/reservations/", "Mes réservations, toutes communes"),
    ]:
        assert f'<a href="{href}">{label}</a>' in family_nav


def test_menu_rows_wrap_instead_of_scrolling_sideways():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static" / "css" / "marelle.css").read_text()
    rule = re.search(r"\.main-nav ul \{([^}]*)\}", css)[1]
    assert "flex-wrap: wrap" in rule and "overflow-x" not in rule and "margin: 0;" in rule
    assert not re.search(r"\.main-nav[^{]*\{[^}]*overflow-x: auto", css)
