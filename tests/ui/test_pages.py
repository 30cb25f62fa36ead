"""What the UI review changed that a test client can see: the booking calendar, the weekly
rhythm, the wallet page, the error summary, the headers of account, 404 and gestion pages."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from shared_apps.directory.services import publish_service
from shared_apps.families.services import get_or_create_family
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings.forms import PatternForm
from tenants.models import Membership, Role
from tests.factories import UserFactory
from tests.fixtures.bookings import PARIS

pytestmark = pytest.mark.django_db


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def product_url(canteen, query: str = "") -> str:
    return f"/c/commune-a/reserver/{canteen.pk}/{query}"


# --- Booking calendar ---------------------------------------------------------------------------


def test_calendar_opens_on_the_first_month_with_a_bookable_day(client, parent, canteen):
    # Friday 27 November: every November day left is past its deadline (2 working days).
    with time_machine.travel(datetime.datetime(2026, 11, 27, 10, tzinfo=PARIS), tick=False):
        client.force_login(parent)
        html = text(client.get(product_url(canteen)))
        assert "Jour(s) à réserver — décembre 2026" in html
        assert 'value="2026-12-07"' in html
        asked = text(client.get(product_url(canteen, "?mois=2026-11")))
    assert "Jour(s) à réserver — novembre 2026" in asked
    assert 'name="dates"' not in asked


def test_calendar_stays_on_this_month_when_a_day_is_bookable(frozen, client, parent, canteen):
    client.force_login(parent)
    assert "Jour(s) à réserver — décembre 2026" in text(client.get(product_url(canteen)))


def test_past_days_say_passe_and_weeks_outside_the_month_are_skipped(
    frozen, client, parent, canteen
):
    client.force_login(parent)
    response = client.get(product_url(canteen, "?mois=2026-12"))
    html = text(response)
    # Thursday 3 December: the 1st is past; the 4th is to come but past its deadline.
    assert 'id="etat-2026-12-01">Passé<' in html
    assert 'id="etat-2026-12-04">Délai dépassé<' in html
    # May 2027 starts on a Saturday: no row of five empty cells before the 3rd.
    may = client.get(product_url(canteen, "?mois=2027-05")).context["weeks"]
    assert all(any(week["days"]) for week in may)
    assert may[0]["first"] == datetime.date(2027, 5, 3)


def test_week_buttons_only_on_weeks_with_a_box_and_each_has_its_own_name(
    frozen, client, parent, canteen
):
    client.force_login(parent)
    html = text(client.get(product_url(canteen, "?mois=2026-12")))
    # 30 Nov–4 Dec: nothing left to book; from the 21st: Christmas holidays.
    assert html.count('data-select="week"') == 2
    assert 'Semaine<span class="visually-hidden"> du 7 décembre</span>' in html
    assert 'Semaine<span class="visually-hidden"> du 14 décembre</span>' in html


def test_a_day_booked_for_one_child_says_so_and_books_the_other(frozen, client, parent, canteen):
    lea, hugo = parent.kids
    parent.api.post(
        "/c/commune-a/api/v1/cart/items",
        {"product_id": canteen.pk, "child_ids": [lea.pk], "dates": ["2026-12-07"]},
    )
    parent.api.post("/c/commune-a/api/v1/cart/checkout", {"payment_method": "wallet"})
    client.force_login(parent)
    html = text(client.get(product_url(canteen, "?mois=2026-12")))
    assert f"Réservé : {lea.first_name} — cocher pour {hugo.first_name}" in html
    assert 'value="2026-12-07" aria-describedby="etat-2026-12-07"' in html

    added = client.post(
        product_url(canteen, "ajouter/"),
        {"mode": "days", "children": [lea.pk, hugo.pk], "dates": ["2026-12-07", "2026-12-08"]},
        follow=True,
    )
    assert "3 réservation(s) ajoutée(s) au panier (1 jour(s) déjà réservé(s)" in text(added)
    items = parent.api.get("/c/commune-a/api/v1/cart").json()["items"]
    assert sorted((i["child_id"], i["date"]) for i in items) == sorted(
        [(hugo.pk, "2026-12-07"), (lea.pk, "2026-12-08"), (hugo.pk, "2026-12-08")]
    )


def test_rhythm_form_has_its_own_children_and_iso_dates(frozen, client, parent, canteen):
    client.force_login(parent)
    html = text(client.get(product_url(canteen, "?mois=2026-12")))
    rhythm = html[html.index('class="pattern-form"') :]
    for kid in parent.kids:
        assert f'name="children" value="{kid.pk}" checked' in rhythm
    assert 'type="hidden" name="children"' not in html
    assert 'value="2026-12-03"' in rhythm and 'value="2026-12-31"' in rhythm  # ISO, not 03/12/2026


def test_rhythm_books_only_the_children_chosen(frozen, client, parent, canteen):
    hugo = parent.kids[1]
    client.force_login(parent)
    client.post(
        product_url(canteen, "ajouter/"),
        {
            "mode": "pattern",
            "children": [hugo.pk],
            "weekdays": ["0"],
            "start": "2026-12-07",
            "end": "2026-12-18",
        },
    )
    items = parent.api.get("/c/commune-a/api/v1/cart").json()["items"]
    assert sorted((i["child_id"], i["date"]) for i in items) == [
        (hugo.pk, "2026-12-07"),
        (hugo.pk, "2026-12-14"),
    ]


def test_pattern_form_shows_iso_dates_in_its_date_inputs():
    form = PatternForm(initial={"start": datetime.date(2026, 12, 3), "end": "2026-12-31"})
    assert 'value="2026-12-03"' in str(form["start"])


# --- Wallet -------------------------------------------------------------------------------------


def _wallet_family(commune_a, commune_b, *, pockets: int):
    parent = UserFactory()
    family = get_or_create_family(parent)
    for commune, kind, name in [
        (commune_a, "cantine", "Cantine"),
        (commune_b, "garderie", "Garderie"),
    ]:
        publish_service(
            commune=commune, service_id=1, kind=kind, name=name, description="", is_active=True
        )
    credit_top_up(
        source_key=f"{family.pk}-a",
        family_id=family.pk,
        amount_cents=1500,
        commune=commune_a,
        service_id=1,
    )
    if pockets > 1:
        credit_top_up(
            source_key=f"{family.pk}-b",
            family_id=family.pk,
            amount_cents=2000,
            commune=commune_b,
            service_id=1,
        )
        credit_top_up(source_key=f"{family.pk}-c", family_id=family.pk, amount_cents=500)
    return parent


def test_wallet_history_names_the_credit_like_the_pockets_in_french(client, commune_a, commune_b):
    parent = _wallet_family(commune_a, commune_b, pockets=3)
    client.force_login(parent)
    html = text(client.get("/porte-monnaie/"))
    assert '<td data-label="Crédit concerné">Cantine de Commune A</td>' in html
    assert '<td data-label="Crédit concerné">Garderie de Commune B</td>' in html
    assert '<td data-label="Crédit concerné">Tous les services</td>' in html
    assert "Tous services<" not in html
    assert 'aria-label="Solde total"' not in html
    assert '<span class="visually-hidden">Solde total : </span>40,00' in html
    months = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
    assert any(f" {month} " in html for month in months.split())


def test_wallet_history_labels_cost_no_query_per_line(client, commune_a, commune_b):
    one = _wallet_family(commune_a, commune_b, pockets=1)
    three = _wallet_family(commune_a, commune_b, pockets=3)

    def queries(user) -> int:
        client.force_login(user)
        with CaptureQueriesContext(connection) as context:
            text(client.get("/porte-monnaie/"))
        return len(context.captured_queries)

    queries(one)  # warm-up
    assert queries(three) == queries(one)


def test_no_top_up_button_without_card_payments(client, settings, commune_a, commune_b):
    parent = _wallet_family(commune_a, commune_b, pockets=1)
    client.force_login(parent)
    settings.STRIPE_SECRET_KEY = ""
    html = text(client.get("/porte-monnaie/"))
    assert "Recharger mon crédit" not in html
    assert "Rechargement par carte indisponible : rechargez en mairie" in html

    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    html = text(client.get("/porte-monnaie/"))
    assert "Recharger mon crédit" in html
    assert "Rechargement par carte indisponible" not in html


# --- Gestion ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, current",
    [
        ("gestion/", "Tableau de bord"),
        ("gestion/demandes/", "Demandes d’accès"),
        ("gestion/effectifs/", "Effectifs"),
        ("gestion/familles/", "Familles"),  # "Réserver pour une famille" starts from there
        ("gestion/regie/", "Régie"),
    ],
)
def test_gestion_pages_share_the_staff_menu_and_hide_the_parents_one(
    client, commune_a, path, current
):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)
    client.force_login(agent)
    html = text(client.get(f"/c/commune-a/{path}"))
    menu = html[html.index('aria-label="Gestion de Commune A"') :]
    menu = menu[: menu.index("</nav>")]
    for entry in ["Tableau de bord", "Demandes d’accès", "Effectifs", "Régie"]:
        assert f">{entry}</a>" in menu
    assert f'aria-current="page">{current}</a>' in menu
    assert ">Services</a>" not in menu  # managers only
    assert 'aria-label="Menu de Commune A"' not in html


# --- Forms, headers -----------------------------------------------------------------------------


def test_error_summary_links_a_checkbox_group_to_its_first_box_and_titles_say_erreur(
    client, frozen, parent
):
    form = PatternForm({"start": "2026-12-10", "end": "2026-12-01"})
    assert not form.is_valid()
    html = render_to_string("includes/form.html", {"form": form})
    assert 'href="#id_weekdays_0"' in html
    client.force_login(parent)
    response = client.post("/famille/", {"first_name": "Zoé"})  # the rest is missing
    assert "<title>Erreur : " in response.content.decode()
    assert "<title>Erreur : " not in text(client.get("/famille/"))


def test_error_summary_does_not_repeat_the_label():
    from django import forms

    class Form(forms.Form):
        email = forms.EmailField(label="Adresse e-mail")

    form = Form({"email": "a@b.fr"})
    form.is_valid()
    form.add_error("email", "Adresse e-mail inconnue.")
    html = render_to_string("includes/form.html", {"form": form})
    assert ">Adresse e-mail inconnue.</a>" in html


def test_account_pages_do_not_offer_to_go_where_you_are(client):
    button = "Créer ou accéder à mon compte usager</a>"
    assert button not in text(client.get("/compte/acces/"))
    known = UserFactory()
    password_step = client.post("/compte/acces/", {"email": known.email}, follow=True)
    assert 'type="password"' in text(password_step) and button not in text(password_step)
    sign_up = client.post("/compte/acces/", {"email": "nouveau@example.fr"}, follow=True)
    assert "Créer mon compte" in text(sign_up) and button not in text(sign_up)
    assert button in text(client.get("/"))


def test_unknown_commune_page_header_does_not_say_logged_out(client, frozen, parent):
    client.force_login(parent)
    response = client.get("/c/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Créer ou accéder à mon compte usager" not in html
    assert ">Mon compte</a>" in html
