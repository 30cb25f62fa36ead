"""Managers' back-office pages: configure services, products and documents; nobody else can."""

from __future__ import annotations

import pytest

from shared_apps.common.money import format_euros
from shared_apps.directory.models import PublishedService
from tenant_apps.catalog.models import DocumentType, MealVariant, Product, Service
from tenant_apps.enrollments.models import AccessRequest, Document

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/gestion"
SERVICE_FORM = {
    "kind": "cantine",
    "name": "Cantine",
    "description": "Restaurant scolaire.",
    "payment_methods": ["card", "wallet"],
    "is_active": "on",
}
PRODUCT_FORM = {
    "name": "Réservation repas cantine",
    "price_cents": "3,80",
    "variants": "Standard, Sans viande, PAI",
    "is_active": "on",
}


def _manager_pages(service_id: int, product_id: int, document_id: int) -> list[str]:
    service = f"{BASE}/services/{service_id}/"
    return [
        f"{BASE}/services/",
        f"{BASE}/services/nouveau/",
        service,
        f"{service}produits/nouveau/",
        f"{service}produits/{product_id}/",
        f"{service}pieces/nouvelle/",
        f"{service}pieces/{document_id}/",
        f"{service}pieces/{document_id}/supprimer/",
    ]


@pytest.fixture
def pages(cantine_a, meal_a, address_proof_a) -> list[str]:
    return _manager_pages(cantine_a.pk, meal_a.pk, address_proof_a.pk)


def _services_in(commune, in_commune) -> list[Service]:
    with in_commune(commune):
        return list(Service.objects.all())


# --- Who may come in ------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login_page(client, pages):
    for url in [*pages, f"{BASE}/"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/compte/acces/?next=/c/commune-a/gestion/")


def test_an_agent_gets_403_on_every_manager_page_and_changes_nothing(
    client, agent_a, pages, commune_a, in_commune
):
    client.force_login(agent_a)
    for url in pages:
        assert client.get(url).status_code == 403, url
        assert client.post(url, SERVICE_FORM).status_code == 403, url
    assert [s.name for s in _services_in(commune_a, in_commune)] == ["Cantine"]


def test_a_parent_gets_403_on_the_back_office(client, parent, pages):
    client.force_login(parent)
    for url in [*pages, f"{BASE}/"]:
        assert client.get(url).status_code == 403, url


def test_staff_of_b_cannot_reach_the_back_office_of_a(client, manager_b, pages):
    client.force_login(manager_b)
    for url in [*pages, f"{BASE}/"]:
        assert client.get(url).status_code == 403, url
        assert client.post(url, SERVICE_FORM).status_code == 403, url


def test_the_staff_home_page_links_agents_to_the_requests_only(client, agent_a):
    client.force_login(agent_a)
    page = client.get(f"{BASE}/").content.decode()
    assert "Demandes d’accès" in page
    assert 'href="/c/commune-a/gestion/demandes/"' in page
    assert f'href="{BASE}/services/"' not in page


def test_the_staff_home_page_links_managers_to_the_services(manager_client):
    page = manager_client.get(f"{BASE}/").content.decode()
    assert "Tableau de bord" in page and "Gestion de Commune A" in page
    assert f'href="{BASE}/services/"' in page


@pytest.mark.parametrize("who", ["agent_a", "manager_a"])
def test_the_staff_home_page_links_every_staff_member_to_the_days_headcount(client, request, who):
    client.force_login(request.getfixturevalue(who))
    page = client.get(f"{BASE}/").content.decode()
    # The dashboard (tests/backoffice/test_dashboard.py) links them from the Gestion menu.
    assert f'<a href="{BASE}/effectifs/">Effectifs</a>' in page
    assert f'<a href="{BASE}/demandes/">Demandes d’accès</a>' in page
    assert client.get(f"{BASE}/effectifs/").status_code == 200


# --- Services -------------------------------------------------------------------------------


def test_the_service_list_shows_every_service_in_an_accessible_table(
    manager_client, cantine_a, meal_a, make_service, commune_a
):
    make_service(commune_a, name="Garderie", kind="garderie", is_active=False)
    page = manager_client.get(f"{BASE}/services/").content.decode()
    assert '<th scope="col">Service</th>' in page
    assert f'<th scope="row"><a href="{BASE}/services/{cantine_a.pk}/">Cantine</a></th>' in page
    assert "Garderie" in page and "Inactif" in page
    assert "Carte bancaire, Porte-monnaie, Prélèvement" in page


def test_a_manager_creates_a_service_and_it_is_published(manager_client, commune_a, in_commune):
    response = manager_client.post(f"{BASE}/services/nouveau/", SERVICE_FORM)

    (service,) = _services_in(commune_a, in_commune)
    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/services/{service.pk}/"
    assert (service.kind, service.name, service.payment_methods) == (
        "cantine",
        "Cantine",
        ["card", "wallet"],
    )
    assert PublishedService.objects.get(commune=commune_a).service_id == service.pk
    page = manager_client.get(response["Location"]).content.decode()
    assert "Le service « Cantine » est créé." in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Ce champ est obligatoire."),
        ("name", "   ", "Ce champ est obligatoire."),
        ("name", "x" * 121, "au plus 120 caractères"),
        ("kind", "", "Ce champ est obligatoire."),
        ("kind", "piscine", "Sélectionnez un choix valide"),
        ("payment_methods", [], "Choisissez au moins un moyen de paiement."),
        ("payment_methods", ["bitcoin"], "Sélectionnez un choix valide"),
        ("description", "x" * 4001, "au plus 4000 caractères"),
    ],
)
def test_a_bad_service_form_shows_a_french_error_and_saves_nothing(
    manager_client, commune_a, in_commune, field, value, message
):
    response = manager_client.post(f"{BASE}/services/nouveau/", {**SERVICE_FORM, field: value})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in page
    assert message in page
    assert _services_in(commune_a, in_commune) == []
    assert not PublishedService.objects.filter(commune=commune_a).exists()


def test_a_duplicate_service_name_is_shown_on_the_name_field(
    manager_client, cantine_a, commune_a, in_commune
):
    response = manager_client.post(f"{BASE}/services/nouveau/", SERVICE_FORM)
    assert "Déjà utilisé." in response.content.decode()
    assert len(_services_in(commune_a, in_commune)) == 1


def test_a_manager_edits_a_service(manager_client, cantine_a, commune_a, in_commune):
    url = f"{BASE}/services/{cantine_a.pk}/"
    form = manager_client.get(url).content.decode()
    assert 'value="Cantine"' in form and "Modifier le service" in form

    response = manager_client.post(
        url,
        {
            "kind": "cantine",
            "name": "Restaurant scolaire",
            "description": "",
            "payment_methods": ["wallet", "direct_debit"],
        },  # "is_active" unticked
    )

    assert response.status_code == 302
    (service,) = _services_in(commune_a, in_commune)
    assert service.name == "Restaurant scolaire"
    assert service.payment_methods == ["wallet", "direct_debit"]
    assert service.is_active is False
    listing = PublishedService.objects.get(commune=commune_a)
    assert (listing.name, listing.is_active) == ("Restaurant scolaire", False)


@pytest.mark.parametrize(
    ("typed", "cents"), [("10", 1000), ("7,50 €", 750), ("", None), ("0", None)]
)
def test_a_manager_sets_the_low_balance_threshold_in_euros(
    manager_client, cantine_a, commune_a, in_commune, typed, cents
):
    url = f"{BASE}/services/{cantine_a.pk}/"
    response = manager_client.post(url, {**SERVICE_FORM, "low_balance_threshold_cents": typed})

    assert response.status_code == 302
    (service,) = _services_in(commune_a, in_commune)
    assert service.low_balance_threshold_cents == cents
    page = manager_client.get(url).content.decode()
    if cents:
        assert f"alerte porte-monnaie : sous {format_euros(cents)}" in page
        assert (
            f'name="low_balance_threshold_cents" value="{cents // 100},{cents % 100:02d}"' in page
        )
    else:
        assert "alerte porte-monnaie : aucune" in page


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("dix", "Montant invalide : indiquez un montant en euros, par exemple 10."),
        ("-5", "Le seuil ne peut pas être négatif."),
        ("1000,01", f"Le seuil doit être compris entre {format_euros(1)} et"),
    ],
)
def test_a_bad_low_balance_threshold_is_refused_in_french(
    manager_client, cantine_a, commune_a, in_commune, typed, message
):
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/",
        {**SERVICE_FORM, "name": "Autre nom", "low_balance_threshold_cents": typed},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and 'href="#id_low_balance_threshold_cents"' in page
    (service,) = _services_in(commune_a, in_commune)
    assert (service.name, service.low_balance_threshold_cents) == ("Cantine", None)


def test_a_bad_edit_changes_nothing_and_keeps_the_saved_name_as_title(
    manager_client, cantine_a, make_service, commune_a, in_commune
):
    make_service(commune_a, name="Garderie", kind="garderie")
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/", {**SERVICE_FORM, "name": "Garderie"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Cantine</h1>" in page and "Déjà utilisé." in page
    assert sorted(s.name for s in _services_in(commune_a, in_commune)) == ["Cantine", "Garderie"]


# --- Products -------------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "cents"), [("3,80", 380), ("3.80", 380), ("4,1", 410), ("0", 0)])
def test_a_manager_adds_a_product_with_a_price_in_euros(
    manager_client, cantine_a, commune_a, in_commune, typed, cents
):
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/produits/nouveau/", {**PRODUCT_FORM, "price_cents": typed}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{BASE}/services/{cantine_a.pk}/"
    with in_commune(commune_a):
        product = Product.objects.get()
        assert (product.service_id, product.price_cents) == (cantine_a.pk, cents)
        assert [v.name for v in product.variants.order_by("pk")] == [
            "Standard",
            "Sans viande",
            "PAI",
        ]


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "Montant invalide : indiquez un prix en euros, par exemple 3,80."),
        ("-1", "Le prix ne peut pas être négatif."),
        ("3,805", "Montant invalide"),
        ("", "Ce champ est obligatoire."),
        ("1000,01", f"compris entre {format_euros(0)} et {format_euros(100_000)}."),
        ("9" * 21, "au plus 20 caractères"),
    ],
)
def test_a_bad_price_shows_a_french_error_and_saves_nothing(
    manager_client, cantine_a, commune_a, in_commune, price, message
):
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/produits/nouveau/", {**PRODUCT_FORM, "price_cents": price}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="error-summary"' in page and message in page
    assert 'href="#id_price_cents"' in page
    with in_commune(commune_a):
        assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Ce champ est obligatoire."),
        ("name", "x" * 121, "au plus 120 caractères"),
        ("variants", "x" * 81, "80 caractères au maximum"),
        ("variants", "x" * 2001, "au plus 2000 caractères"),
    ],
)
def test_a_bad_product_form_shows_a_french_error_and_saves_nothing(
    manager_client, cantine_a, commune_a, in_commune, field, value, message
):
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/produits/nouveau/", {**PRODUCT_FORM, field: value}
    )
    assert message in response.content.decode()
    with in_commune(commune_a):
        assert not Product.objects.exists()


def test_the_product_form_shows_the_price_in_euros_and_saves_changes(
    manager_client, cantine_a, meal_a, commune_a, in_commune
):
    url = f"{BASE}/services/{cantine_a.pk}/produits/{meal_a.pk}/"
    form = manager_client.get(url).content.decode()
    assert 'value="3,80"' in form
    assert "Standard\nSans viande\nPAI" in form

    response = manager_client.post(
        url, {"name": meal_a.name, "price_cents": "4,10", "variants": "Standard\nSans porc"}
    )

    assert response.status_code == 302
    with in_commune(commune_a):
        meal_a.refresh_from_db()
        assert (meal_a.price_cents, meal_a.is_active) == (410, False)
        assert sorted(MealVariant.objects.values_list("name", flat=True)) == [
            "Sans porc",
            "Standard",
        ]


def test_the_service_page_lists_products_with_french_prices(manager_client, cantine_a, meal_a):
    page = manager_client.get(f"{BASE}/services/{cantine_a.pk}/").content.decode()
    assert '<th scope="row">Réservation repas cantine</th>' in page
    assert format_euros(380) == "3,80\u00a0€" and format_euros(380) in page
    assert "Standard, Sans viande, PAI" in page


def test_a_duplicate_product_name_is_refused(
    manager_client, cantine_a, meal_a, commune_a, in_commune
):
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/produits/nouveau/", PRODUCT_FORM
    )
    assert "Déjà utilisé." in response.content.decode()
    with in_commune(commune_a):
        assert Product.objects.count() == 1


def test_a_product_is_only_reached_through_its_own_service(
    manager_client, meal_a, make_service, commune_a
):
    garderie = make_service(commune_a, name="Garderie", kind="garderie")
    url = f"{BASE}/services/{garderie.pk}/produits/{meal_a.pk}/"
    assert manager_client.get(url).status_code == 404
    assert manager_client.post(url, PRODUCT_FORM).status_code == 404


# --- Supporting documents -------------------------------------------------------------------


def test_a_manager_asks_for_a_document(manager_client, cantine_a, commune_a, in_commune):
    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/pieces/nouvelle/",
        {
            "label": "Attestation d’assurance",
            "help_text": "Responsabilité civile.",
            "accepted_formats": ["pdf", "png"],
        },  # "required" unticked: optional
    )

    assert response.status_code == 302
    with in_commune(commune_a):
        document = DocumentType.objects.get()
    assert document.service_id == cantine_a.pk
    assert (document.code, document.required) == ("attestation-dassurance", False)
    assert document.accepted_formats == ["pdf", "png"]


def test_the_new_document_form_ticks_required_and_every_format(manager_client, cantine_a):
    page = manager_client.get(f"{BASE}/services/{cantine_a.pk}/pieces/nouvelle/").content.decode()
    assert page.count("checked") == 4  # required + PDF, JPEG, PNG


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("label", "", "Ce champ est obligatoire."),
        ("label", "x" * 121, "au plus 120 caractères"),
        ("help_text", "x" * 301, "au plus 300 caractères"),
        ("accepted_formats", [], "Choisissez au moins un format"),
        ("accepted_formats", ["docx"], "Sélectionnez un choix valide"),
    ],
)
def test_a_bad_document_form_shows_a_french_error_and_saves_nothing(
    manager_client, cantine_a, commune_a, in_commune, field, value, message
):
    data = {"label": "Assurance", "required": "on", "accepted_formats": ["pdf"], field: value}
    response = manager_client.post(f"{BASE}/services/{cantine_a.pk}/pieces/nouvelle/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    with in_commune(commune_a):
        assert not DocumentType.objects.exists()


def test_a_manager_edits_a_document(
    manager_client, cantine_a, address_proof_a, commune_a, in_commune
):
    url = f"{BASE}/services/{cantine_a.pk}/pieces/{address_proof_a.pk}/"
    assert 'value="Justificatif de domicile"' in manager_client.get(url).content.decode()

    response = manager_client.post(
        url, {"label": "Justificatif de domicile récent", "accepted_formats": ["pdf"]}
    )

    assert response.status_code == 302
    with in_commune(commune_a):
        address_proof_a.refresh_from_db()
    assert address_proof_a.label == "Justificatif de domicile récent"
    assert address_proof_a.required is False
    assert address_proof_a.code == "justificatif-de-domicile"


def test_deleting_a_document_asks_first_then_deletes_on_post(
    manager_client, cantine_a, address_proof_a, commune_a, in_commune
):
    url = f"{BASE}/services/{cantine_a.pk}/pieces/{address_proof_a.pk}/supprimer/"
    page = manager_client.get(url).content.decode()
    assert "Supprimer la pièce « Justificatif de domicile » ?" in page
    with in_commune(commune_a):
        assert DocumentType.objects.exists()

    response = manager_client.post(url)

    assert response.status_code == 302
    with in_commune(commune_a):
        assert not DocumentType.objects.exists()


def test_a_document_families_sent_is_not_deleted_and_the_page_says_why(
    manager_client, cantine_a, address_proof_a, user, commune_a, in_commune
):
    with in_commune(commune_a):
        access_request = AccessRequest.objects.create(
            service=cantine_a, family_id=1, submitted_by_id=user.pk
        )
        Document.objects.create(
            access_request=access_request,
            document_type=address_proof_a,
            file="documents/exemple.pdf",
            original_name="facture.pdf",
            content_type="application/pdf",
            size=100,
            uploaded_by_id=user.pk,
        )

    response = manager_client.post(
        f"{BASE}/services/{cantine_a.pk}/pieces/{address_proof_a.pk}/supprimer/"
    )

    assert response.status_code == 409
    assert "Des familles ont déjà envoyé cette pièce" in response.content.decode()
    with in_commune(commune_a):
        assert DocumentType.objects.filter(pk=address_proof_a.pk).exists()


# --- Ids belong to one commune ---------------------------------------------------------------


def test_an_id_that_exists_only_in_b_is_a_404_under_a(
    manager_client, commune_b, in_commune, make_service
):
    with in_commune(commune_b):
        service_b = Service.objects.create(pk=987_654, kind="garderie", name="Garderie de B")
    for url in _manager_pages(service_b.pk, 1, 1)[2:]:
        assert manager_client.get(url).status_code == 404, url
        assert manager_client.post(url, {**SERVICE_FORM, **PRODUCT_FORM}).status_code == 404, url
    with in_commune(commune_b):
        assert Service.objects.get().name == "Garderie de B"
        assert not Product.objects.exists() and not DocumentType.objects.exists()


def test_the_same_id_in_a_and_b_only_ever_touches_a(
    manager_client, commune_a, commune_b, in_commune
):
    with in_commune(commune_a):
        service_a = Service.objects.create(pk=424_242, kind="cantine", name="Cantine de A")
    with in_commune(commune_b):
        Service.objects.create(pk=424_242, kind="cantine", name="Repas servis par B")

    page = manager_client.get(f"{BASE}/services/424242/").content.decode()
    assert "Cantine de A" in page and "Repas servis par B" not in page
    manager_client.post(f"{BASE}/services/424242/", {**SERVICE_FORM, "name": "Cantine modifiée"})
    manager_client.post(f"{BASE}/services/424242/produits/nouveau/", PRODUCT_FORM)

    with in_commune(commune_a):
        assert Service.objects.get(pk=service_a.pk).name == "Cantine modifiée"
        assert Product.objects.get().service_id == service_a.pk
    with in_commune(commune_b):
        assert Service.objects.get(pk=424_242).name == "Repas servis par B"
        assert not Product.objects.exists()
    assert not PublishedService.objects.filter(commune=commune_b).exists()


@pytest.mark.parametrize("service_id", ["0", "99999999999999999999"])
def test_impossible_ids_are_404_not_500(manager_client, service_id):
    assert manager_client.get(f"{BASE}/services/{service_id}/").status_code == 404
    assert manager_client.get(f"{BASE}/services/{service_id}/produits/nouveau/").status_code == 404
