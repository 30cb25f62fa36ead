"""Kitchen lists ("effectifs"): the numbers equal the bookings (cancellations, agent bookings,
meal variants, a PAI child never standard), the flags are in words, every format holds the same
numbers, each showing is audited, and only this commune's staff see them."""

from __future__ import annotations

import io

import pytest
from django.db.models import Count

from shared_apps.audit.models import AuditEntry
from shared_apps.families.models import Child
from tenant_apps.backoffice.headcounts import class_sort_key, note_flags
from tenant_apps.bookings.models import LIVE_STATUSES, Reservation
from tenant_apps.catalog.models import MealVariant
from tenants.models import Membership, Role
from tests.factories import UserFactory
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a"
API = f"{BASE}/api/v1"
MON, TUE, THU, FRI = "2026-12-07", "2026-12-08", "2026-12-10", "2026-12-11"
PAI_MEAL = "Panier repas PAI"


def book(parent, product, dates, children=None, variant=None):
    body = {
        "product_id": product.pk,
        "child_ids": [k.pk for k in (children or parent.kids)],
        "dates": dates,
    }
    if variant is not None:
        body["variant_id"] = variant.pk
    added = parent.api.post(f"{API}/cart/items", body, format="json")
    assert added.status_code == 201, added.json()
    paid = parent.api.post(f"{API}/cart/checkout", {"payment_method": "wallet"})
    assert paid.status_code == 201, paid.json()
    return paid.json()["reservations"]


def staff(commune, role=Role.AGENT):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune, role=role)
    return user


@pytest.fixture
def agent(commune_a):
    return staff(commune_a)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def pai_meal(canteen, commune_a, in_commune):
    with in_commune(commune_a):
        MealVariant.objects.create(product=canteen, name="Sans viande")
        return MealVariant.objects.create(product=canteen, name=PAI_MEAL)


@pytest.fixture
def school(frozen, commune_a, in_commune, canteen, pai_meal, agent):
    """Monday: two children standard, a PAI child on the PAI meal, an allergic child booked
    standard, one cancelled, one absent; Thursday: an agent's booking on behalf."""
    martin = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    pai = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=10_000)
    allergic = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=5_000)
    Child.objects.filter(pk=pai.kids[0].pk).update(
        first_name="Lou", notes="PAI arachide : panier repas fourni par la famille."
    )
    Child.objects.filter(pk=allergic.kids[0].pk).update(
        first_name="Noé", notes="Allergie aux œufs.", school_class="CP"
    )
    Child.objects.filter(pk=martin.kids[1].pk).update(notes="Ne mange pas de porc.")
    book(martin, canteen, [MON, THU])
    book(pai, canteen, [MON], variant=pai_meal)
    booked = book(allergic, canteen, [MON, TUE])
    cancelled = next(r for r in booked if r["date"] == TUE)
    assert allergic.api.post(f"{API}/reservations/{cancelled['id']}/cancel").status_code == 200
    # An agent books Thursday for the PAI child on the family's behalf (the "cagnotte").
    on_behalf = client_for(agent).post(
        f"{API}/staff/reservations",
        {
            "child_id": pai.kids[0].pk,
            "product_id": canteen.pk,
            "dates": [THU],
            "consent_note": "Mme X, au téléphone",
            "variant_id": 0,  # the standard meal, chosen: the PAI child gets flagged
        },
        format="json",
    )
    assert on_behalf.status_code == 201, on_behalf.json()
    with in_commune(commune_a):
        Reservation.objects.filter(child_id=martin.kids[0].pk, date=MON).update(status="absent")
    return {"martin": martin, "pai": pai, "allergic": allergic}


def truth(commune, in_commune, start, end):
    """What the database says: places per day and variant name (None: standard)."""
    with in_commune(commune):
        rows = (
            Reservation.objects.filter(date__range=(start, end), status__in=LIVE_STATUSES)
            .values_list("date", "variant__name")
            .annotate(n=Count("id"))
        )
        return {(d.isoformat(), v or "Standard"): n for d, v, n in rows}


def api_counts(body):
    counts = {}
    for product in body["products"]:
        for group in product["groups"]:
            key = (group["date"], group["variant"] or "Standard")
            counts[key] = counts.get(key, 0) + group["count"]
    return counts


# --- The rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notes", "info", "alert"),
    [
        ("", False, False),
        ("   ", False, False),
        ("Ne mange pas de porc.", True, False),
        ("PAI arachide", True, True),
        ("p.a.i. signé en septembre", True, True),
        ("Projet d’accueil individualisé asthme", True, True),
        ("allergique au kiwi", True, True),
        ("Intolérance au lactose", True, True),
        ("Epipen dans le cartable", True, True),
        ("Aime le pain et la paix", True, False),
    ],
)
def test_the_notes_rule_flags_pai_and_allergies_in_words(notes, info, alert):
    flags = note_flags(notes)
    assert (flags.has_info, flags.alert) == (info, alert)


def test_classes_come_in_school_order():
    classes = ["CM2", "", "CP", "Ulis", "GS", "CE1", "CE2/CM1", "PS"]
    assert sorted(classes, key=class_sort_key) == [
        "PS",
        "GS",
        "CP",
        "CE1",
        "CE2/CM1",
        "CM2",
        "Ulis",
        "",
    ]


# --- The numbers ----------------------------------------------------------------------------


def test_the_day_list_equals_the_bookings(school, agent, commune_a, in_commune):
    body = client_for(agent).get(f"{API}/staff/headcount", {"date": MON}).json()
    expected = truth(commune_a, in_commune, MON, MON)
    # Two Martin children (one absent, still a place), Lou on the PAI meal, Noé standard; the
    # cancelled Tuesday is not Monday's business.
    assert expected == {(MON, "Standard"): 3, (MON, PAI_MEAL): 1}
    assert api_counts(body) == expected
    assert body["total"] == 4
    product = body["products"][0]
    assert product["by_variant"] == {"Standard": 3, PAI_MEAL: 1}
    lou = [
        (g["variant"], c)
        for g in product["groups"]
        for c in g["children"]
        if c["first_name"] == "Lou"
    ]
    assert [variant for variant, _ in lou] == [PAI_MEAL]
    assert lou[0][1]["pai"] is True and "PAI / allergie" in lou[0][1]["badges"]


def test_a_cancelled_place_is_not_counted_and_the_week_adds_up(
    school, agent, commune_a, in_commune
):
    body = client_for(agent).get(f"{API}/staff/headcount", {"week": MON}).json()
    assert body["from"] == MON and body["to"] == "2026-12-13"
    # The canteen runs Monday, Tuesday, Thursday and Friday.
    assert body["days"] == [MON, TUE, THU, FRI]
    expected = truth(commune_a, in_commune, MON, "2026-12-13")
    assert api_counts(body) == expected
    days = {d["date"]: d["total"] for d in body["products"][0]["days"]}
    assert days == {MON: 4, TUE: 0, THU: 3, FRI: 0}
    assert body["total"] == sum(expected.values()) == 7


def test_the_agents_booking_counts_and_a_pai_child_without_a_chosen_meal_is_flagged(
    school, agent_client, commune_a, in_commune, pai_meal
):
    """The agent's Thursday booking for Lou has no meal chosen (the on-behalf form has no
    variant yet): Lou is then shown under Standard with "À vérifier", never silently."""
    page = agent_client.get(f"{BASE}/gestion/effectifs/", {"date": THU}).content.decode()
    assert "3</strong> places réservées" in page
    assert "À vérifier : repas standard" in page
    monday = agent_client.get(f"{BASE}/gestion/effectifs/", {"date": MON}).content.decode()
    pai_group = monday.split(f"· {PAI_MEAL} : 1")[1].split("</ol>")[0]
    assert "Lou" in pai_group
    standard_groups = [part.split("</ol>")[0] for part in monday.split("· Standard :")[1:]]
    assert not any("Lou" in part for part in standard_groups)


def test_an_agents_booking_with_the_pai_meal_counts_under_it(
    frozen, commune_a, in_commune, canteen, pai_meal, agent
):
    from tenant_apps.bookings.services.on_behalf import book_on_behalf

    family = make_family(commune_a, in_commune, canteen.service, children=1, funds_cents=5_000)
    with in_commune(commune_a):
        book_on_behalf(
            commune=commune_a,
            staff_user=agent,
            child_id=family.kids[0].pk,
            product_id=canteen.pk,
            dates=[MON],
            consent_note="Accord par téléphone",
            variant_id=pai_meal.pk,
        )
    body = client_for(agent).get(f"{API}/staff/headcount", {"date": MON}).json()
    assert api_counts(body) == {(MON, PAI_MEAL): 1}


def test_the_page_shows_names_flags_in_words_and_totals(school, agent_client):
    response = agent_client.get(f"{BASE}/gestion/effectifs/", {"date": MON})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Effectifs du lundi 7 décembre 2026</h1>" in page
    assert "4</strong> places réservées" in page
    assert '<span class="badge badge-alert">PAI / allergie</span>' in page
    assert '<span class="badge badge-info">Information complémentaire</span>' in page
    assert "Allergie aux œufs." in page and "PAI arachide" in page
    # Noé (allergy) is booked standard: the kitchen is told to check.
    assert '<span class="badge badge-check">À vérifier : repas standard</span>' in page
    assert '<th scope="row">Standard</th><td class="num">3</td>' in page
    assert f'<th scope="row">{PAI_MEAL}</th><td class="num">1</td>' in page
    assert '<th scope="row">Sans viande</th><td class="num">0</td>' in page
    assert "Absent" in page
    # Previous/next school day: Friday before, Tuesday after.
    assert "date=2026-12-04" in page and "date=2026-12-08" in page


def test_the_week_page_has_one_column_per_opening_day(school, agent_client):
    page = agent_client.get(
        f"{BASE}/gestion/effectifs/", {"date": THU, "vue": "semaine"}
    ).content.decode()
    assert "Effectifs de la semaine du 7 décembre 2026 au 11 décembre 2026" in page
    assert '<th scope="row">Standard</th><td class="num">3</td><td class="num">0</td>' in page
    assert "mer" not in page.split("Places par repas et par jour")[1].split("</thead>")[0]
    assert "date=2026-11-30" in page and "date=2026-12-14" in page


# --- Exports --------------------------------------------------------------------------------


def test_pdf_and_xlsx_hold_the_numbers_of_the_page(school, agent_client):
    from openpyxl import load_workbook
    from pypdf import PdfReader

    query = {"date": MON, "vue": "semaine"}
    pdf = agent_client.get(f"{BASE}/gestion/effectifs/effectifs.pdf", query)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Réservation repas cantine (Cantine) : 7 places" in text
    assert "lundi 7 décembre : 4 places" in text and "jeudi 10 décembre : 3 places" in text
    assert "Lou" in text and "PAI / allergie" in text and "PAI arachide" in text

    xlsx = agent_client.get(f"{BASE}/gestion/effectifs/effectifs.xlsx", query)
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Totaux", "Par classe", "Enfants"]
    totals = list(book["Totaux"].iter_rows(min_row=2, values_only=True))
    by_day = {(r[1].date().isoformat(), r[2]): r[3] for r in totals}
    assert by_day[(MON, "Standard")] == 3 and by_day[(MON, PAI_MEAL)] == 1
    assert by_day[(MON, "Total")] == 4 and by_day[(THU, "Total")] == 3
    assert sum(r[3] for r in totals if r[2] == "Total") == 7
    assert sum(r[4] for r in book["Par classe"].iter_rows(min_row=2, values_only=True)) == 7
    children = list(book["Enfants"].iter_rows(min_row=2, values_only=True))
    assert len(children) == 7
    lou = [r for r in children if r[5] == "Lou" and r[1].date().isoformat() == MON]
    assert lou[0][3] == PAI_MEAL and lou[0][6] == "PAI / allergie"


def test_csv_is_safe_against_formula_injection(school, agent_client):
    Child.objects.filter(pk=school["martin"].kids[0].pk).update(
        first_name="=cmd|' /C calc'!A0", last_name="+SUM(1)"
    )
    response = agent_client.get(f"{BASE}/gestion/effectifs/effectifs.csv", {"date": MON})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="effectifs-2026-12-07.csv"'
    text = response.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Prestation;Jour;Classe;Repas;Nom;Prénom")
    assert len(lines) == 1 + 4
    assert "'=cmd" in text and "'+SUM(1)" in text
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line.split(";"))


def test_the_month_forecast_counts_per_day_and_variant(school, agent, agent_client):
    from openpyxl import load_workbook

    page = agent_client.get(f"{BASE}/gestion/effectifs/previsions/", {"mois": "2026-12"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Prévisions de décembre 2026</h1>" in html
    # Each day opens that day's list for the product.
    assert (
        f'<th scope="row"><a href="{BASE}/gestion/effectifs/?date=2026-12-07&amp;produit=' in html
    )
    assert (
        '>lun 7</a></th><td class="num">3</td><td class="num">1</td>'
        '<td class="num">0</td><td class="num"><strong>4</strong></td>'
    ) in html
    # Christmas holidays (zone A) from 19 December: no rows after Friday 18.
    assert "ven 18" in html and "lun 21" not in html
    assert "Total du mois" in html
    xlsx = agent_client.get(f"{BASE}/gestion/effectifs/previsions.xlsx", {"mois": "2026-12"})
    rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
    assert rows[0] == ("Prestation", "Jour", "Fermé", "Standard", PAI_MEAL, "Sans viande", "Total")
    total = next(r for r in rows if r[1] == "Total du mois")
    assert total[3:] == (6, 1, 0, 7)
    csv = agent_client.get(f"{BASE}/gestion/effectifs/previsions.csv", {"mois": "2026-12"})
    assert "Total du mois;;6;1;0;7" in csv.content.decode("utf-8-sig")
    assert AuditEntry.objects.filter(action="headcount.forecast.view", actor=agent).count() == 3


# --- Audit, validation, isolation -----------------------------------------------------------


def test_every_showing_is_audited_with_its_scope(school, agent, agent_client, canteen):
    agent_client.get(f"{BASE}/gestion/effectifs/", {"date": MON})
    agent_client.get(f"{BASE}/gestion/effectifs/", {"date": MON, "vue": "semaine"})
    agent_client.get(f"{BASE}/gestion/effectifs/imprimer/", {"date": MON, "produit": canteen.pk})
    agent_client.get(f"{BASE}/gestion/effectifs/effectifs.pdf", {"date": MON})
    client_for(agent).get(f"{API}/staff/headcount", {"from": MON, "to": THU})
    entries = list(
        AuditEntry.objects.filter(action="headcount.view", actor=agent)
        .order_by("pk")
        .values_list("target_type", "target_id", "details")
    )
    assert [(t, i, d["output"]) for t, i, d in entries] == [
        ("day", MON, "page"),
        ("period", f"{MON}/2026-12-13", "page"),
        ("day", MON, "print"),
        ("day", MON, "pdf"),
        ("period", f"{MON}/{THU}", "api"),
    ]
    assert entries[0][2]["children"] == 4 and entries[2][2]["product_id"] == canteen.pk


@pytest.mark.parametrize(
    "query",
    [
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"date": "demain"},
        {"vue": "mois"},
        {"produit": "abc"},
    ],
)
def test_bad_input_is_a_french_error_not_a_500(frozen, agent_client, canteen, query):
    for path in ("", "imprimer/", "effectifs.pdf", "effectifs.csv"):
        response = agent_client.get(f"{BASE}/gestion/effectifs/{path}", query)
        assert response.status_code == 400, path
        page = response.content.decode()
        assert "corrigez le formulaire" in page
    assert not AuditEntry.objects.filter(action="headcount.view").exists()


@pytest.mark.parametrize("query", [{"mois": "2026-13"}, {"mois": "9999-01"}, {"mois": "x"}])
def test_bad_month_is_a_french_error(frozen, agent_client, canteen, query):
    response = agent_client.get(f"{BASE}/gestion/effectifs/previsions/", query)
    assert response.status_code == 400
    assert "Mois attendu au format AAAA-MM" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"date": "demain"},
        {"week": "2026-W60"},
        {"week": "9999-01-01"},
        {"from": MON},
        {"from": THU, "to": MON},
        {"from": "2026-12-01", "to": "2027-01-31"},
        {"date": MON, "product_id": "x"},
    ],
)
def test_the_api_refuses_bad_periods_in_french(frozen, agent, canteen, query):
    response = client_for(agent).get(f"{API}/staff/headcount", query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_another_communes_product_is_a_404(
    frozen, agent, agent_client, commune_b, in_commune, canteen
):
    from tenant_apps.catalog.models import Product, Service, ServiceKind

    with in_commune(commune_b):
        service = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine B")
        other = Product.objects.create(service=service, name="Repas B", price_cents=300)
    # Ids may coincide across schemas: take one that is surely not A's.
    missing = max(other.pk, canteen.pk) + 1000
    for pk in (missing,) + ((other.pk,) if other.pk != canteen.pk else ()):
        for path in ("", "imprimer/", "effectifs.xlsx", "previsions/", "previsions.csv"):
            assert (
                agent_client.get(f"{BASE}/gestion/effectifs/{path}", {"produit": pk}).status_code
                == 404
            ), path
        api = client_for(agent).get(f"{API}/staff/headcount", {"date": MON, "product_id": pk})
        assert api.status_code == 404


PATHS = (
    "gestion/effectifs/",
    "gestion/effectifs/imprimer/",
    "gestion/effectifs/effectifs.pdf",
    "gestion/effectifs/effectifs.xlsx",
    "gestion/effectifs/effectifs.csv",
    "gestion/effectifs/previsions/",
    "gestion/effectifs/previsions.xlsx",
    "gestion/effectifs/previsions.csv",
)


def test_only_this_communes_staff_see_the_lists(school, client, commune_a, commune_b):
    manager = staff(commune_a, Role.MANAGER)
    outsider = staff(commune_b, Role.MANAGER)
    for path in PATHS:
        url = f"{BASE}/{path}?date={MON}"
        client.logout()
        anonymous = client.get(url)
        assert anonymous.status_code == 302 and "/compte/acces/" in anonymous["Location"], path
        client.force_login(outsider)
        assert client.get(url).status_code == 403, path
        client.force_login(school["pai"])
        assert client.get(url).status_code == 403, path
        client.force_login(manager)
        assert client.get(url).status_code == 200, path
    assert client_for(outsider).get(f"{API}/staff/headcount", {"date": MON}).status_code == 403
    assert school["pai"].api.get(f"{API}/staff/headcount", {"date": MON}).status_code == 403
    assert AuditEntry.objects.filter(action="headcount.view", actor=outsider).count() == 0


def test_the_menu_and_the_dashboard_link_the_lists(frozen, agent_client, canteen):
    page = agent_client.get(f"{BASE}/gestion/effectifs/").content.decode()
    assert f'<a href="{BASE}/gestion/effectifs/" aria-current="page">Effectifs</a>' in page
    forecast = agent_client.get(f"{BASE}/gestion/effectifs/previsions/").content.decode()
    assert f'<a href="{BASE}/gestion/effectifs/" aria-current="true">Effectifs</a>' in forecast


def test_a_product_filter_shows_that_product_only(
    school, agent, agent_client, canteen, commune_a, in_commune
):
    from tenant_apps.catalog.models import Product

    with in_commune(commune_a):
        snack = Product.objects.create(
            service=canteen.service, name="Goûter", price_cents=100, weekdays=[0, 1, 3, 4]
        )
    book(school["martin"], snack, [MON], children=school["martin"].kids[:1])
    both = client_for(agent).get(f"{API}/staff/headcount", {"date": MON}).json()
    assert {p["product"]: p["total"] for p in both["products"]} == {
        "Goûter": 1,
        "Réservation repas cantine": 4,
    }
    only = (
        client_for(agent)
        .get(f"{API}/staff/headcount", {"week": "2026-W50", "product_id": snack.pk})
        .json()
    )
    assert [(p["product"], p["total"]) for p in only["products"]] == [("Goûter", 1)]
    page = agent_client.get(f"{BASE}/gestion/effectifs/", {"date": MON, "produit": snack.pk})
    html = page.content.decode()
    assert "1</strong> place réservée" in html and "Réservation repas cantine (" not in html
    assert f'<option value="{snack.pk}" selected>Cantine — Goûter</option>' in html
