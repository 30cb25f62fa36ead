"""A guardian gives or revokes, per commune, standing consent for its staff to book on the
family's behalf ("Réservations par la mairie", from "Mes filiations" and "Mon compte")."""

from __future__ import annotations

import pytest

from shared_apps.audit.models import AuditEntry
from shared_apps.families.models import FamilyCommune

pytestmark = pytest.mark.django_db

CONSENTS = "/famille/accord-mairie/"


def test_the_parent_lists_its_communes_gives_and_revokes(client, parent, commune_a, frozen):
    client.force_login(parent)
    page = client.get(CONSENTS).content.decode()
    assert "Commune A" in page and "Pas d’accord permanent" in page
    assert CONSENTS in client.get("/famille/").content.decode()
    assert CONSENTS in client.get("/compte/").content.decode()
    client.post(CONSENTS, {"commune_id": commune_a.pk, "consent": "1"})
    link = FamilyCommune.objects.get(family=parent.family, commune=commune_a)
    assert link.booking_consent_at is not None and link.booking_consent_by == parent
    page = client.get(CONSENTS).content.decode()
    assert "Accord donné" in page and "3 décembre 2026" in page
    # Giving again keeps the first date.
    first = link.booking_consent_at
    client.post(CONSENTS, {"commune_id": commune_a.pk, "consent": "1"})
    link.refresh_from_db()
    assert link.booking_consent_at == first
    client.post(CONSENTS, {"commune_id": commune_a.pk, "consent": "0"})
    link.refresh_from_db()
    assert link.booking_consent_at is None and link.booking_consent_by is None
    actions = list(
        AuditEntry.objects.filter(family_id=parent.family.pk, action__contains="consent")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["family.booking_consent_given", "family.booking_consent_revoked"]


@pytest.mark.parametrize("commune_id", ["other", "99999999", "-1", ""])
def test_a_commune_the_family_never_dealt_with_is_refused(client, parent, commune_id):
    client.force_login(parent)
    response = client.post(CONSENTS, {"commune_id": commune_id, "consent": "1"}, follow=True)
    assert "Commune introuvable" in response.content.decode()
    assert not FamilyCommune.objects.filter(booking_consent_at__isnull=False).exists()


def test_another_communes_id_gives_nothing(client, parent, commune_b):
    client.force_login(parent)
    client.post(CONSENTS, {"commune_id": commune_b.pk, "consent": "1"})
    assert not FamilyCommune.objects.filter(commune=commune_b).exists()


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(CONSENTS).status_code == 302
    assert client.post(CONSENTS, {"commune_id": "1", "consent": "1"}).status_code == 302


def test_the_api_lists_gives_and_revokes(parent, commune_a, commune_b, api):
    url = "/api/v1/family/booking-consents"
    assert parent.api.get(url).json() == [
        {
            "commune_id": commune_a.pk,
            "commune_slug": "commune-a",
            "commune_name": "Commune A",
            "consent": False,
            "given_at": None,
        }
    ]
    given = parent.api.put(f"{url}/{commune_a.pk}", {"consent": True}, format="json")
    assert given.status_code == 200 and given.json()["consent"] is True
    assert parent.api.get(url).json()[0]["given_at"] is not None
    revoked = parent.api.put(f"{url}/{commune_a.pk}", {"consent": False}, format="json")
    assert revoked.json()["consent"] is False
    assert (
        parent.api.put(f"{url}/{commune_b.pk}", {"consent": True}, format="json").status_code == 404
    )
    assert parent.api.put(f"{url}/{commune_a.pk}", {}, format="json").status_code == 400
    assert api.get(url).status_code == 401
