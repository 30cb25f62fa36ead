"""Staff memberships: rights in one commune give nothing in another."""

import pytest
from django.core.management import CommandError, call_command

from tenants.models import Membership, Role
from tenants.selectors import is_staff_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_staff_creates_the_account_and_the_membership(commune_a, client):
    call_command(
        "create_staff",
        "commune-a",
        "Agent@Mairie.fr",
        "--role",
        "manager",
        "--password",
        "s3cret-pw!",
    )
    membership = Membership.objects.get(user__email="agent@mairie.fr")
    assert membership.commune == commune_a and membership.role == Role.MANAGER
    response = client.post(
        "/compte/connexion/", {"email": "agent@mairie.fr", "password": "s3cret-pw!"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session


def test_create_staff_for_an_unknown_commune_fails_and_creates_nobody():
    with pytest.raises(CommandError, match="Aucune commune"):
        call_command("create_staff", "inconnue", "x@mairie.fr", "--password", "pw-12345678")
    assert not Membership.objects.filter(user__email="x@mairie.fr").exists()


def test_staff_rights_in_a_give_nothing_in_b(commune_a, commune_b):
    agent = UserFactory()
    Membership.objects.create(user=agent, commune=commune_a, role=Role.MANAGER)
    assert is_staff_of(agent, commune_a)
    assert not is_staff_of(agent, commune_b)
    assert not is_staff_of(UserFactory(), commune_a)
