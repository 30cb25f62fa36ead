"""A product's booking rules: managers set them in plain French on "Règles de réservation";
every rule is saved, every bad input is refused in French and changes nothing."""

from __future__ import annotations

import datetime

import pytest

from shared_apps.common.validation import InvalidInput
from tenant_apps.catalog import services
from tenant_apps.catalog.forms import booking_rules_changes
from tenant_apps.catalog.models import Product, Service

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/gestion"
RULE_FIELDS = [
    "weekdays",
    "opening_period",
    "booking_deadline_kind",
    "booking_deadline_days",
    "booking_deadline_weekday",
    "booking_deadline_time",
    "cancel_deadline_kind",
    "cancel_deadline_days",
    "cancel_deadline_weekday",
    "cancel_deadline_time",
    "late_cancellation_refund_percent",
    "daily_capacity",
    "qf_brackets",
    "sibling_reduction_percent",
]
# Saint-Marcel's canteen: book by Thursday noon of the week before, cancel up to 2 working days
# before at 9:00, late cancellations not refunded, prices by quotient familial, 10 % siblings.
RULES_FORM = {
    "weekdays": ["0", "1", "3", "4"],
    "opening_period": "school",
    "booking_deadline_kind": "weekday_before",
    "booking_deadline_days": "",
    "booking_deadline_weekday": "3",
    "booking_deadline_time": "12:00",
    "cancel_deadline_kind": "working_days_before",
    "cancel_deadline_days": "2",
    "cancel_deadline_weekday": "",
    "cancel_deadline_time": "09:00",
    "late_cancellation": "no_refund",
    "late_cancellation_refund_percent": "",
    "daily_capacity": "",
    "qf_max_1": "600",
    "qf_price_1": "1,20",
    "qf_max_2": "1000",
    "qf_price_2": "2,60",
    "sibling_reduction_percent": "10",
}


def _rules_url(service_id: int, product_id: int) -> str:
    return f"{BASE}/services/{service_id}/produits/{product_id}/regles/"


@pytest.fixture
def rules_url(cantine_a, meal_a) -> str:
    return _rules_url(cantine_a.pk, meal_a.pk)


def _rules(commune, in_commune, product: Product) -> dict:
    with in_commune(commune):
        product = Product.objects.get(pk=product.pk)
    return {field: getattr(product, field) for field in RULE_FIELDS}


# --- The page -------------------------------------------------------------------------------


def test_the_service_page_links_to_each_products_rules_and_says_them_in_french(
    manager_client, cantine_a, meal_a, rules_url
):
    page = manager_client.get(f"{BASE}/services/{cantine_a.pk}/").content.decode()
    assert f'href="{rules_url}"' in page
    # The model's defaults: 2 working days before, noon, for both deadlines.
    assert "<dt>Réservation</dt><dd>2 jours ouvrés avant, avant 12 h 00</dd>" in page
    assert "Lundi, mardi, jeudi, vendredi — jours d’école (hors vacances scolaires)" in page
    assert "après : annulable sans remboursement" in page


def test_the_rules_form_shows_the_saved_rules(manager_client, rules_url):
    page = manager_client.get(rules_url).content.decode()
    assert "Règles de réservation de « Réservation repas cantine »" in page
    for day, name in enumerate(["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi"]):
        checked = " checked" if day in (0, 1, 3, 4) else ""
        assert f'value="{day}" id="id_weekdays_{day}"{checked}>\n {name}</label>' in page
    assert "Dimanche" in page
    assert 'value="school" required id="id_opening_period_0" checked>' in page
    assert 'value="no_refund" required id="id_late_cancellation_1" checked>' in page
    assert 'name="booking_deadline_time" value="12:00"' in page
    assert 'name="qf_max_6"' in page and 'name="qf_max_7"' not in page


def test_a_manager_saves_every_rule_from_the_form(
    manager_client, cantine_a, meal_a, rules_url, commune_a, in_commune
):
    response = manager_client.post(rules_url, RULES_FORM)

    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/services/{cantine_a.pk}/#produit-{meal_a.pk}"
    rules = _rules(commune_a, in_commune, meal_a)
    assert rules == {
        "weekdays": [0, 1, 3, 4],
        "opening_period": "school",
        "booking_deadline_kind": "weekday_before",
        "booking_deadline_days": 2,  # not used by this kind: left as it was
        "booking_deadline_weekday": 3,
        "booking_deadline_time": datetime.time(12, 0),
        "cancel_deadline_kind": "working_days_before",
        "cancel_deadline_days": 2,
        "cancel_deadline_weekday": 3,
        "cancel_deadline_time": datetime.time(9, 0),
        "late_cancellation_refund_percent": 0,
        "daily_capacity": None,
        "qf_brackets": [{"max_qf": 600, "price_cents": 120}, {"max_qf": 1000, "price_cents": 260}],
        "sibling_reduction_percent": 10,
    }
    page = manager_client.get(response["Location"]).content.decode()
    assert "Les règles de réservation de « Réservation repas cantine » sont enregistrées." in page
    assert "<dd>Le jeudi de la semaine précédente avant 12 h 00</dd>" in page
    assert "<dd>2 jours ouvrés avant, avant 09 h 00 ; après : annulable sans remboursement" in page
    assert "Quotient familial jusqu’à 600 : 1,20\u00a0€" in page
    assert "Au-delà, ou sans quotient familial : 3,80\u00a0€" in page
    assert "10 % à partir du 2e enfant" in page


@pytest.mark.parametrize(
    ("typed", "saved"),
    [
        ({"weekdays": ["2"]}, {"weekdays": [2]}),
        ({"weekdays": ["6", "0", "5"]}, {"weekdays": [0, 5, 6]}),
        ({"opening_period": "holidays"}, {"opening_period": "holidays"}),
        ({"opening_period": "all"}, {"opening_period": "all"}),
        (
            {"booking_deadline_kind": "same_day", "booking_deadline_time": "07:00"},
            {"booking_deadline_kind": "same_day", "booking_deadline_time": datetime.time(7)},
        ),
        (
            {"booking_deadline_kind": "working_days_before", "booking_deadline_days": "30"},
            {"booking_deadline_kind": "working_days_before", "booking_deadline_days": 30},
        ),
        (
            {"booking_deadline_kind": "working_days_before", "booking_deadline_days": "0"},
            {"booking_deadline_days": 0},
        ),
        ({"booking_deadline_weekday": "4"}, {"booking_deadline_weekday": 4}),
        ({"booking_deadline_time": "7h30"}, {"booking_deadline_time": datetime.time(7, 30)}),
        ({"booking_deadline_time": "18 h"}, {"booking_deadline_time": datetime.time(18)}),
        (
            {"cancel_deadline_kind": "weekday_before", "cancel_deadline_weekday": "0"},
            {"cancel_deadline_kind": "weekday_before", "cancel_deadline_weekday": 0},
        ),
        ({"cancel_deadline_days": "1"}, {"cancel_deadline_days": 1}),
        ({"cancel_deadline_time": "23:59"}, {"cancel_deadline_time": datetime.time(23, 59)}),
        ({"late_cancellation": "not_cancellable"}, {"late_cancellation_refund_percent": None}),
        (
            {"late_cancellation": "partial", "late_cancellation_refund_percent": "50"},
            {"late_cancellation_refund_percent": 50},
        ),
        (
            {"late_cancellation": "no_refund", "late_cancellation_refund_percent": "80"},
            {"late_cancellation_refund_percent": 0},  # the radio decides
        ),
        ({"daily_capacity": "20"}, {"daily_capacity": 20}),
        ({"daily_capacity": ""}, {"daily_capacity": None}),
        ({"sibling_reduction_percent": ""}, {"sibling_reduction_percent": 0}),
        ({"sibling_reduction_percent": "100"}, {"sibling_reduction_percent": 100}),
        (
            {"qf_max_1": "", "qf_price_1": "", "qf_max_2": "", "qf_price_2": ""},
            {"qf_brackets": []},
        ),
        (  # a blank row in between is skipped
            {"qf_max_2": "", "qf_price_2": "", "qf_max_4": "1500", "qf_price_4": "3.10 €"},
            {
                "qf_brackets": [
                    {"max_qf": 600, "price_cents": 120},
                    {"max_qf": 1500, "price_cents": 310},
                ]
            },
        ),
        (
            {f"qf_max_{n}": str(n * 100) for n in range(1, 7)}
            | {f"qf_price_{n}": f"{n},50" for n in range(1, 7)},
            {
                "qf_brackets": [
                    {"max_qf": n * 100, "price_cents": n * 100 + 50} for n in range(1, 7)
                ]
            },
        ),
    ],
)
def test_each_rule_is_saved_from_the_form(
    manager_client, meal_a, rules_url, commune_a, in_commune, typed, saved
):
    response = manager_client.post(rules_url, {**RULES_FORM, **typed})

    assert response.status_code == 302, response.content.decode()
    rules = _rules(commune_a, in_commune, meal_a)
    assert {field: rules[field] for field in saved} == saved


@pytest.mark.parametrize(
    ("typed", "message", "on"),
    [
        ({"weekdays": []}, "Cochez au moins un jour d’ouverture.", "weekdays_0"),
        ({"weekdays": ["7"]}, "Sélectionnez un choix valide", "weekdays_0"),
        ({"opening_period": "weekends"}, "Sélectionnez un choix valide", "opening_period_0"),
        ({"opening_period": ""}, "Ce champ est obligatoire.", "opening_period_0"),
        ({"booking_deadline_kind": "tomorrow"}, "Sélectionnez un choix valide", None),
        (
            {"booking_deadline_kind": "working_days_before", "booking_deadline_days": "31"},
            "Indiquez un nombre de jours ouvrés entre 0 et 30.",
            "booking_deadline_days",
        ),
        (
            {"cancel_deadline_days": "45"},
            "Indiquez un nombre de jours ouvrés entre 0 et 30.",
            "cancel_deadline_days",
        ),
        (
            {"cancel_deadline_days": "-1"},
            "Indiquez un nombre de jours ouvrés entre 0 et 30.",
            "cancel_deadline_days",
        ),
        (
            {"cancel_deadline_days": ""},
            "Indiquez un nombre de jours ouvrés entre 0 et 30.",
            "cancel_deadline_days",
        ),
        ({"cancel_deadline_days": "deux"}, "Saisissez un nombre entier.", "cancel_deadline_days"),
        (
            {"booking_deadline_weekday": ""},
            "Choisissez un jour de la semaine.",
            "booking_deadline_weekday",
        ),
        ({"booking_deadline_weekday": "8"}, "Sélectionnez un choix valide", None),
        ({"booking_deadline_time": "25:00"}, "Saisissez une heure valide.", None),
        ({"cancel_deadline_time": "midi"}, "Saisissez une heure valide.", None),
        (
            {"cancel_deadline_time": ""},
            "Heure invalide : indiquez une heure comme 12:00.",
            "cancel_deadline_time",
        ),
        ({"late_cancellation": ""}, "Ce champ est obligatoire.", "late_cancellation_0"),
        (
            {"late_cancellation": "partial", "late_cancellation_refund_percent": "150"},
            "Indiquez un pourcentage entier entre 0 et 100.",
            "late_cancellation_refund_percent",
        ),
        (
            {"late_cancellation": "partial", "late_cancellation_refund_percent": "-5"},
            "Indiquez un pourcentage entier entre 0 et 100.",
            "late_cancellation_refund_percent",
        ),
        (
            {"late_cancellation": "partial", "late_cancellation_refund_percent": ""},
            "Indiquez la part remboursée, en %.",
            "late_cancellation_refund_percent",
        ),
        (
            {"sibling_reduction_percent": "101"},
            "Indiquez un pourcentage entier entre 0 et 100.",
            "sibling_reduction_percent",
        ),
        (
            {"sibling_reduction_percent": "10,5"},
            "Saisissez un nombre entier.",
            "sibling_reduction_percent",
        ),
        ({"daily_capacity": "0"}, "Indiquez un nombre de places entre 1 et", "daily_capacity"),
        (
            {"daily_capacity": "100000"},
            "Indiquez un nombre de places entre 1 et",
            "daily_capacity",
        ),
        (  # unsorted
            {"qf_max_1": "1000", "qf_price_1": "2,60", "qf_max_2": "600", "qf_price_2": "1,20"},
            "ce plafond doit dépasser celui de la tranche précédente (1000)",
            "qf_max_2",
        ),
        (  # duplicate
            {"qf_max_2": "600", "qf_price_2": "2,60"},
            "Deux tranches ont le même plafond (600) : gardez-en une seule.",
            "qf_max_2",
        ),
        (  # duplicate, with a blank row in between: the error names the right row
            {"qf_max_2": "", "qf_price_2": "", "qf_max_5": "600", "qf_price_5": "2,60"},
            "Deux tranches ont le même plafond (600)",
            "qf_max_5",
        ),
        (
            {"qf_price_2": "2,605"},
            "Montant invalide : indiquez un prix en euros, par exemple 3,80.",
            "qf_price_2",
        ),
        ({"qf_price_1": "deux euros"}, "Montant invalide", "qf_price_1"),
        ({"qf_price_1": "-1,20"}, "Le prix ne peut pas être négatif.", "qf_price_1"),
        ({"qf_price_1": "1000,01"}, "Le prix doit être compris entre 0,00", "qf_price_1"),
        ({"qf_price_2": ""}, "Indiquez le prix de cette tranche.", "qf_price_2"),
        ({"qf_max_2": ""}, "Indiquez le quotient familial de cette tranche.", "qf_max_2"),
        ({"qf_max_1": "-1"}, "Indiquez un quotient familial entier entre 0 et", "qf_max_1"),
        ({"qf_max_1": "six cents"}, "Saisissez un nombre entier.", "qf_max_1"),
    ],
)
def test_a_bad_rule_shows_a_french_error_and_saves_nothing(
    manager_client, meal_a, rules_url, commune_a, in_commune, typed, message, on
):
    before = _rules(commune_a, in_commune, meal_a)

    response = manager_client.post(rules_url, {**RULES_FORM, **typed})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in page
    assert message in page
    if on:
        assert f'href="#id_{on}"' in page
    assert _rules(commune_a, in_commune, meal_a) == before


def test_several_bad_rules_are_all_reported_at_once_and_nothing_is_saved(
    manager_client, meal_a, rules_url, commune_a, in_commune
):
    before = _rules(commune_a, in_commune, meal_a)
    response = manager_client.post(
        rules_url,
        {
            **RULES_FORM,
            "weekdays": [],
            "cancel_deadline_days": "31",
            "sibling_reduction_percent": "120",
            "qf_max_2": "500",
        },
    )
    page = response.content.decode()
    assert "Le formulaire contient 4 erreurs" in page
    assert _rules(commune_a, in_commune, meal_a) == before


# --- The use case ---------------------------------------------------------------------------


def test_only_the_rules_given_change(commune_a, meal_a, in_commune):
    with in_commune(commune_a):
        services.save_booking_rules(
            commune=commune_a,
            product=meal_a,
            changes=booking_rules_changes({"daily_capacity": 12}, product=meal_a),
        )
        meal_a.refresh_from_db()
    assert meal_a.daily_capacity == 12
    assert meal_a.weekdays == [0, 1, 3, 4] and meal_a.sibling_reduction_percent == 0


def test_a_deadline_kind_ignores_the_parts_it_does_not_use(commune_a, meal_a, in_commune):
    with in_commune(commune_a):
        services.save_booking_rules(
            commune=commune_a,
            product=meal_a,
            changes=booking_rules_changes(
                {
                    "booking_deadline_kind": "same_day",
                    "booking_deadline_days": 99,
                    "booking_deadline_weekday": "dimanche",
                    "booking_deadline_time": "07:30",
                },
                product=meal_a,
            ),
        )
        meal_a.refresh_from_db()
    assert meal_a.booking_deadline_kind == "same_day"
    assert meal_a.booking_deadline_time == datetime.time(7, 30)
    assert (meal_a.booking_deadline_days, meal_a.booking_deadline_weekday) == (2, 3)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"weekdays": []}, "weekdays"),
        ({"weekdays": "lundi"}, "weekdays"),
        ({"weekdays": [0, 7]}, "weekdays"),
        ({"weekdays": [True]}, "weekdays"),
        ({"opening_period": "weekends"}, "opening_period"),
        ({"booking_deadline_kind": None}, "booking_deadline_kind"),
        ({"cancel_deadline_days": 31}, "cancel_deadline_days"),
        ({"cancel_deadline_days": True}, "cancel_deadline_days"),
        ({"cancel_deadline_days": 2.5}, "cancel_deadline_days"),
        (
            {"booking_deadline_kind": "weekday_before", "booking_deadline_weekday": 7},
            "booking_deadline_weekday",
        ),
        ({"cancel_deadline_time": "midi"}, "cancel_deadline_time"),
        ({"cancel_deadline_time": None}, "cancel_deadline_time"),
        ({"late_cancellation_refund_percent": 101}, "late_cancellation_refund_percent"),
        ({"late_cancellation_refund_percent": "moitié"}, "late_cancellation_refund_percent"),
        ({"sibling_reduction_percent": -1}, "sibling_reduction_percent"),
        ({"daily_capacity": 0}, "daily_capacity"),
        ({"daily_capacity": "beaucoup"}, "daily_capacity"),
        ({"qf_brackets": "600:1,20"}, "qf_brackets"),
        ({"qf_brackets": [[600, 120]]}, "qf_brackets"),
        (
            {"qf_brackets": [{"max_qf": n, "price_cents": 100} for n in range(1, 8)]},
            "qf_brackets",
        ),
        ({"qf_brackets": [{"max_qf": 600}]}, "qf_brackets.0.price_cents"),
        ({"qf_brackets": [{"max_qf": 600, "price_cents": "1,20"}]}, "qf_brackets.0.price_cents"),
        (
            {
                "qf_brackets": [
                    {"max_qf": 600, "price_cents": 120},
                    {"max_qf": 900, "price_cents": 200},
                    {"max_qf": 700, "price_cents": 150},
                ]
            },
            "qf_brackets.2.max_qf",
        ),
    ],
)
def test_bad_rules_are_refused_before_the_use_case(meal_a, data, field):
    with pytest.raises(InvalidInput) as error:
        booking_rules_changes({"daily_capacity": 30, **data}, product=meal_a)
    assert field in error.value.fields
    assert all(message for messages in error.value.fields.values() for message in messages)


# --- Who may change them --------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, rules_url):
    for response in (client.get(rules_url), client.post(rules_url, RULES_FORM)):
        assert response.status_code == 302
        assert response["Location"].startswith("/compte/acces/?next=/c/commune-a/gestion/")


def test_an_agent_gets_403_and_changes_nothing(
    client, agent_a, meal_a, rules_url, commune_a, in_commune
):
    before = _rules(commune_a, in_commune, meal_a)
    client.force_login(agent_a)
    assert client.get(rules_url).status_code == 403
    assert client.post(rules_url, RULES_FORM).status_code == 403
    assert _rules(commune_a, in_commune, meal_a) == before


def test_the_manager_of_b_gets_403_on_the_rules_of_a(
    client, manager_b, meal_a, rules_url, commune_a, in_commune
):
    before = _rules(commune_a, in_commune, meal_a)
    client.force_login(manager_b)
    assert client.get(rules_url).status_code == 403
    assert client.post(rules_url, RULES_FORM).status_code == 403
    assert _rules(commune_a, in_commune, meal_a) == before


def test_a_product_of_b_is_a_404_under_a(manager_client, cantine_a, commune_b, in_commune):
    with in_commune(commune_b):
        service_b = Service.objects.create(pk=987_654, kind="cantine", name="Cantine de B")
        product_b = Product.objects.create(pk=876_543, service=service_b, name="Repas de B")
    for url in (
        _rules_url(service_b.pk, product_b.pk),  # B's service and product
        _rules_url(cantine_a.pk, product_b.pk),  # A's service, B's product
    ):
        assert manager_client.get(url).status_code == 404, url
        assert manager_client.post(url, RULES_FORM).status_code == 404, url
    with in_commune(commune_b):
        product_b.refresh_from_db()
    assert product_b.daily_capacity is None and product_b.qf_brackets == []


def test_a_product_is_only_reached_through_its_own_service(
    manager_client, meal_a, make_service, commune_a
):
    garderie = make_service(commune_a, name="Garderie", kind="garderie")
    url = _rules_url(garderie.pk, meal_a.pk)
    assert manager_client.get(url).status_code == 404
    assert manager_client.post(url, RULES_FORM).status_code == 404
