"""The family file: staff of a commune find the families that asked it for a service, see what
concerns this commune only (the children named in its requests, its pockets and movements), and
every opening is audited (RGPD)."""

from __future__ import annotations

import pytest

from demo.builders import enrol_family
from shared_apps.audit.models import AuditEntry
from shared_apps.families.services import add_child
from shared_apps.wallet.models import Account, AccountKind
from shared_apps.wallet.services import credit_top_up
from tenant_apps.bookings.models import Reservation
from tenant_apps.bookings.services.on_behalf import book_on_behalf
from tenant_apps.catalog.models import DocumentType
from tests.fixtures.bookings import make_family
from tests.fixtures.clients import client_for

pytestmark = pytest.mark.django_db

PAGE = "/c/commune-a/gestion/familles/"
API = "/c/commune-a/api/v1/staff/families"


def _secret_child(parent, name="Sidonie"):
    return add_child(
        user=parent,
        data={
            "last_name": parent.last_name,
            "first_name": name,
            "birth_date": "2019-09-09",
            "relation": "mother",
            "school_class": "MS",
        },
    )


@pytest.fixture
def family_in_both(frozen, parent, commune_b, canteen_b, in_commune, agent_b):
    """The `parent` of commune A also asked commune B for a third child, Sidonie, named in B's
    request only, paid 40 € into B's pocket and spent there."""
    sidonie = _secret_child(parent)
    enrol_family(
        commune=commune_b,
        service=canteen_b.service,
        parent=parent,
        children=[sidonie],
        decided_by=agent_b,
    )
    credit_top_up(
        source_key=f"seed-b:{parent.family.pk}",
        family_id=parent.family.pk,
        amount_cents=4_000,
        commune=commune_b,
        service_id=canteen_b.service.pk,
    )
    with in_commune(commune_b):
        book_on_behalf(
            commune=commune_b,
            staff_user=agent_b,
            child_id=sidonie.pk,
            product_id=canteen_b.pk,
            dates=["2026-12-07"],
            consent_note="Accord au guichet de B",
        )
    parent.sidonie = sidonie
    return parent


@pytest.fixture
def b_only_family(frozen, commune_b, in_commune, canteen_b):
    """A family that only ever asked commune B."""
    return make_family(commune_b, in_commune, canteen_b.service, funds_cents=2_000)


def _search(client, q):
    response = client.get(PAGE, {"q": q})
    assert response.status_code == 200
    return response.content.decode()


def test_search_finds_known_families_by_guardian_child_and_email(
    client, agent, family_in_both, b_only_family
):
    parent = family_in_both
    client.force_login(agent)
    file_link = f"{PAGE}{parent.family.pk}/"
    other_link = f"{PAGE}{b_only_family.family.pk}/"
    # By the guardian's name (any case), the e-mail, a child's name, or several words.
    for q in (parent.last_name.upper(), parent.email, "enfant1", f"Camille {parent.last_name}"):
        page = _search(client, q)
        assert file_link in page, q
        assert other_link not in page
    # The B-only family is never found in A, even by its exact e-mail or its children's names.
    assert other_link not in _search(client, b_only_family.email)
    assert "Aucune famille" in _search(client, b_only_family.last_name)
    # A child named only in B's requests is not searchable from A (nor shown in the results).
    assert "Aucune famille" in _search(client, "Sidonie")
    assert "Sidonie" not in _search(client, parent.last_name)
    # No words: every family known here, and only those.
    everything = client.get(PAGE).content.decode()
    assert file_link in everything and other_link not in everything
    # Every listing is audited (names and e-mails are shown), with its words.
    searches = AuditEntry.objects.filter(action="family.search", actor=agent).order_by("pk")
    assert searches.count() == 9
    assert searches.first().details == {"q": parent.last_name.upper(), "found": 1}


def test_search_api_is_paginated_and_limited_to_known_families(
    agent, family_in_both, b_only_family
):
    staff = client_for(agent)
    body = staff.get(API, {"q": "enfant0"}).json()
    assert body["count"] == 1 and set(body) == {"count", "next", "previous", "results"}
    row = body["results"][0]
    assert row["id"] == family_in_both.family.pk
    assert {c["first_name"] for c in row["children"]} == {"Enfant0", "Enfant1"}
    assert row["guardians"][0]["email"] == family_in_both.email
    assert staff.get(API, {"q": b_only_family.email}).json()["count"] == 0
    # A very long query is cut, never an error.
    assert staff.get(API, {"q": "x" * 5000}).status_code == 200


def test_search_pages_through_many_families(client, agent, commune_a, in_commune, canteen):
    families = [make_family(commune_a, in_commune, canteen.service, children=1) for _ in range(27)]
    client.force_login(agent)
    first = client.get(PAGE).content.decode()
    second = client.get(PAGE, {"page": "2"}).content.decode()
    assert "Page 1 sur 2" in first and "Page 2 sur 2" in second
    shown = [f for f in families if f"{PAGE}{f.family.pk}/" in first + second]
    assert len(shown) == 27
    assert client.get(PAGE, {"page": "abc"}).status_code == 200
    assert client.get(PAGE, {"page": "999"}).status_code == 200


def test_page_shows_only_children_named_here_and_this_communes_pockets(
    client, agent, family_in_both, commune_a
):
    parent = family_in_both
    client.force_login(agent)
    page = client.get(f"{PAGE}{parent.family.pk}/").content.decode()
    assert "Enfant0" in page and "Enfant1" in page
    assert "Sidonie" not in page  # named in B's request only
    assert parent.email in page and parent.phone in page
    assert "Cantine" in page and "100,00\u00a0€" in page
    # B's pocket (40 € paid in, 4,50 € spent there) is none of A's business.
    assert "Restaurant scolaire B" not in page
    assert "35,50" not in page and "40,00" not in page and "Accord au guichet de B" not in page
    assert "Réservé par la mairie" not in page


def test_page_shows_bookings_attendance_requests_and_documents(
    client, agent, canteen, commune_a, in_commune, frozen
):
    with in_commune(commune_a):
        DocumentType.objects.create(
            service=canteen.service, code="assurance", label="Attestation d’assurance"
        )
    parent = make_family(commune_a, in_commune, canteen.service, funds_cents=10_000)
    with in_commune(commune_a):
        book_on_behalf(
            commune=commune_a,
            staff_user=agent,
            child_id=parent.kids[0].pk,
            product_id=canteen.pk,
            dates=["2026-12-07"],
            consent_note="Mme au téléphone",
        )
        Reservation.objects.update(status="attended")
    client.force_login(agent)
    page = client.get(f"{PAGE}{parent.family.pk}/").content.decode()
    assert "lundi 7 décembre 2026" in page.lower()
    assert "Mairie (Agnès Agent)" in page
    assert "Présent : <strong>1</strong>" in page
    assert "Mme au téléphone" in page  # the consent recorded by the agent
    assert "/c/commune-a/gestion/demandes/" in page  # the request, to the staff page
    assert "/c/commune-a/gestion/documents/" in page  # its documents
    assert "Attestation d’assurance" in page
    assert "3,80" in page and "96,20" in page  # the price, the pocket after it


def test_every_opening_is_audited(client, agent, parent):
    client.force_login(agent)
    for _ in range(2):
        assert client.get(f"{PAGE}{parent.family.pk}/").status_code == 200
    assert client_for(agent).get(f"{API}/{parent.family.pk}").status_code == 200
    entries = AuditEntry.objects.filter(action="family.view")
    assert entries.count() == 3
    assert {(e.actor_id, e.family_id) for e in entries} == {(agent.pk, parent.family.pk)}


def test_api_file_holds_the_same_as_the_page(agent, family_in_both):
    body = client_for(agent).get(f"{API}/{family_in_both.family.pk}").json()
    assert {c["first_name"] for c in body["children"]} == {"Enfant0", "Enfant1"}
    assert [p["label"] for p in body["pockets"]] == ["Cantine", "Tous les services"]
    assert body["available_cents"] == 10_000
    assert body["booking_consent"] == {"standing": False, "given_at": None}
    assert body["movements"][0]["amount_cents"] == 10_000
    assert len(body["movements"]) == 1  # not B's top-up nor B's spending


def test_general_pocket_hidden_when_the_commune_refuses_general_credit(
    client, agent, parent, commune_a
):
    commune_a.accepts_general_credit = False
    commune_a.save(update_fields=["accepts_general_credit"])
    body = client_for(agent).get(f"{API}/{parent.family.pk}").json()
    assert [p["label"] for p in body["pockets"]] == ["Cantine"]


def test_another_communes_family_or_an_unknown_id_is_404(
    client, agent, b_only_family, family_in_both
):
    client.force_login(agent)
    staff = client_for(agent)
    for family_id in (b_only_family.family.pk, 987_654_321, 2**63 + 5):
        assert client.get(f"{PAGE}{family_id}/").status_code == 404
        assert client.get(f"{PAGE}{family_id}/reserver/").status_code == 404
        assert staff.get(f"{API}/{family_id}").status_code == 404
    assert not AuditEntry.objects.filter(action="family.view").exists()


@pytest.mark.parametrize("path", ["", "{id}/", "{id}/reserver/"])
def test_pages_refused_to_other_staff_parents_and_anonymous(
    client, agent_b, parent, path, b_only_family
):
    url = PAGE + path.format(id=parent.family.pk)
    assert client.get(url).status_code == 302  # to the sign-in page
    for user in (agent_b, parent, b_only_family):
        client.force_login(user)
        assert client.get(url).status_code == 403
    assert not AuditEntry.objects.filter(action__startswith="family.").exists()


def test_api_refused_to_other_staff_parents_and_anonymous(api, agent_b, parent):
    for url in (API, f"{API}/{parent.family.pk}"):
        assert api.get(url).status_code == 401
        assert client_for(agent_b).get(url).status_code == 403
        assert parent.api.get(url).status_code == 403
    # B's staff, under B, does not see A's family either.
    assert (
        client_for(agent_b)
        .get(f"/c/commune-b/api/v1/staff/families/{parent.family.pk}")
        .status_code
        == 404
    )


def test_pockets_of_a_family_without_wallet(client, agent, commune_a, in_commune, canteen):
    broke = make_family(commune_a, in_commune, canteen.service, children=1)
    assert not Account.objects.filter(
        wallet__family_id=broke.family.pk, kind=AccountKind.SERVICE_POCKET
    ).exists()
    client.force_login(agent)
    page = client.get(f"{PAGE}{broke.family.pk}/").content.decode()
    assert "Aucun mouvement pour la commune." in page
