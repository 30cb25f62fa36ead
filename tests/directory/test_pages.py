"""The public page "Mes services": every commune's services, a way to ask for access."""

from __future__ import annotations

import pytest

from shared_apps.common.french import de
from shared_apps.directory.selectors import access_request_url, service_label

pytestmark = pytest.mark.django_db


def test_mes_services_lists_communes_and_links_to_the_access_request(
    client, commune_a, commune_b, publish
):
    cantine = publish(commune_a, "Cantine", description="Restaurant scolaire.")
    garderie = publish(commune_b, "Garderie", kind="garderie")

    response = client.get("/services/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Mes services</h1>" in page
    assert "Commune A" in page and "Commune B" in page and "Restaurant scolaire." in page
    assert f'href="/c/commune-a/services/{cantine.pk}/demande/"' in page
    assert f'href="/c/commune-b/services/{garderie.pk}/demande/"' in page
    assert 'href="/c/commune-a/"' in page


def test_mes_services_hides_inactive_services(client, commune_a, publish):
    publish(commune_a, "Centre fermé", kind="centre_loisirs", is_active=False)
    assert "Centre fermé" not in client.get("/services/").content.decode()


def test_mes_services_searches_communes_by_name(client, commune_a, commune_b, publish):
    publish(commune_b, "Garderie", kind="garderie")

    page = client.get("/services/", {"commune": "commune b"}).content.decode()

    assert "Commune B" in page and "Commune A" not in page
    nothing = client.get("/services/", {"commune": "x" * 500}).content.decode()
    assert "Aucune commune ne correspond" in nothing


def test_the_access_request_link_is_the_enrollment_page():
    assert access_request_url("baneins", 7) == "/c/baneins/services/7/demande/"


@pytest.mark.parametrize(
    ("service", "commune", "label"),
    [
        ("Garderie", "Baneins", "Garderie de Baneins"),
        ("Cantine", "Saint-Marcel-en-Dombes", "Cantine de Saint-Marcel-en-Dombes"),
        ("Cantine", "Le Puy-en-Velay", "Cantine du Puy-en-Velay"),
        ("Cantine", "Les Échelles", "Cantine des Échelles"),
        ("Cantine", "Ambérieu-en-Bugey", "Cantine d’Ambérieu-en-Bugey"),
        ("Cantine", "La Chapelle", "Cantine de La Chapelle"),
    ],
)
def test_service_labels_read_well_in_french(service, commune, label):
    assert service_label(service, commune) == label
    assert label.endswith(de(commune))
