"""Where staff land after signing in: their commune's Gestion, or a choice of places."""

from __future__ import annotations

import pytest

from shared_apps.families.services import add_child
from tenants.models import Membership, Role
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, user, next_url: str | None = None):
    data = {"email": user.email, "password": PASSWORD}
    if next_url is not None:
        data["next"] = next_url
    return client.post("/compte/connexion/", data)


def _with_child(user):
    add_child(
        user=user,
        data={
            "last_name": user.last_name,
            "first_name": "Léa",
            "birth_date": "2018-04-02",
            "relation": "mother",
            "school_class": "CE1",
        },
    )
    return user


def test_an_agent_lands_on_the_dashboard_of_their_commune(client, commune_a):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)

    response = _sign_in(client, agent)

    assert response.status_code == 302
    assert response["Location"] == "/c/commune-a/gestion/"
    page = client.get(response["Location"]).content.decode()
    assert "Tableau de bord" in page and "Demandes d’accès en attente" in page


def test_a_manager_of_two_communes_chooses_where_to_go(client, commune_a, commune_b):
    manager = UserFactory()
    Membership.objects.create(user=manager, commune=commune_a, role=Role.MANAGER)
    Membership.objects.create(user=manager, commune=commune_b, role=Role.AGENT)

    response = _sign_in(client, manager)

    assert response["Location"] == "/compte/espaces/"
    page = client.get("/compte/espaces/").content.decode()
    assert "Où voulez-vous aller ?" in page
    assert 'href="/c/commune-a/gestion/"' in page and 'href="/c/commune-b/gestion/"' in page
    assert "Mon espace famille" not in page


def test_staff_who_is_also_a_parent_chooses_between_gestion_and_the_family(client, commune_a):
    agent = _with_child(UserFactory())
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)

    response = _sign_in(client, agent)

    assert response["Location"] == "/compte/espaces/"
    page = client.get("/compte/espaces/").content.decode()
    assert 'href="/c/commune-a/gestion/"' in page
    assert 'href="/mon-espace/"' in page and "Mon espace famille" in page


def test_a_parent_lands_on_the_family_space_as_before(client, commune_a):
    parent = _with_child(UserFactory())

    response = _sign_in(client, parent)

    assert response["Location"] == "/mon-espace/"


def test_staff_of_an_inactive_commune_are_not_sent_there(client, commune_a):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)
    commune_a.is_active = False
    commune_a.save()

    assert _sign_in(client, agent)["Location"] == "/mon-espace/"


@pytest.mark.parametrize("several_places", [False, True])
def test_a_safe_next_wins_over_the_landing(client, commune_a, commune_b, several_places):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)
    if several_places:
        Membership.objects.create(user=agent, commune=commune_b, role=Role.AGENT)

    response = _sign_in(client, agent, next_url="/c/commune-a/gestion/demandes/")

    assert response["Location"] == "/c/commune-a/gestion/demandes/"


@pytest.mark.parametrize("unsafe", ["https://evil.example/", "//evil.example/", "gestion"])
def test_an_unsafe_next_is_ignored_and_staff_still_land_in_gestion(client, commune_a, unsafe):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)

    assert _sign_in(client, agent, next_url=unsafe)["Location"] == "/c/commune-a/gestion/"


def test_the_access_page_sends_a_signed_in_agent_to_gestion(client, commune_a):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)
    client.force_login(agent)

    assert client.get("/compte/acces/")["Location"] == "/c/commune-a/gestion/"


def test_the_chooser_asks_who_you_are(client, db):
    response = client.get("/compte/espaces/")
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/acces/?next=")


def test_the_parent_header_in_a_commune_keeps_a_gestion_link_for_staff(client, commune_a):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.AGENT)
    client.force_login(agent)

    page = client.get("/c/commune-a/").content.decode()

    assert 'href="/c/commune-a/gestion/">Gestion</a>' in page


def test_an_operator_lands_in_the_operators_console(client, commune_a):
    operator = UserFactory(is_operator=True)
    response = _sign_in(client, operator)
    assert response["Location"] == "/operateur/"
    assert client.get("/operateur/").status_code == 200


def test_an_operator_who_is_also_a_parent_lands_in_the_family_space(client, commune_a):
    operator = _with_child(UserFactory(is_operator=True))
    response = _sign_in(client, operator)
    assert response["Location"] == "/mon-espace/"
