"""The commune's team: invitations by e-mail (hashed, expiring, single-use links), roles, the
last-manager rule, and who may do any of it."""

from __future__ import annotations

import datetime
import re

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from shared_apps.audit.models import AuditEntry
from tenants.models import Membership, Role, StaffInvitation
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.clients import link_in

pytestmark = pytest.mark.django_db

TEAM = "/c/commune-a/gestion/equipe/"


def _member(commune, role=Role.AGENT, **kwargs):
    user = UserFactory(**kwargs)
    Membership.objects.create(user=user, commune=commune, role=role)
    return user


@pytest.fixture
def manager(commune_a):
    return _member(commune_a, Role.MANAGER, first_name="Régine", last_name="Responsable")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _invite(client, send_mail_now, email, role=Role.AGENT):
    with send_mail_now():
        response = client.post(TEAM, {"email": email, "role": role})
    assert response.status_code == 302, response.content.decode()[:3000]
    return link_in(mail.outbox[-1], "/equipe/invitation/")


def _path(link: str) -> str:
    return re.sub(r"^https?://[^/]+", "", link)


def test_the_team_page_lists_the_staff_with_their_roles(manager_client, commune_a, commune_b):
    _member(commune_a, first_name="Aline", last_name="Agent")
    _member(commune_b, first_name="Bruno", last_name="Ailleurs")

    page = manager_client.get(TEAM).content.decode()

    assert "Régine Responsable" in page and "Aline Agent" in page
    assert "Bruno Ailleurs" not in page
    assert "2 membres de l’équipe" in page


def test_a_new_person_is_invited_signs_up_through_the_link_and_joins_once(
    client, manager, commune_a, send_mail_now
):
    client.force_login(manager)
    link = _invite(client, send_mail_now, "nouvelle.agente@exemple.fr", Role.AGENT)
    message = mail.outbox[-1]
    assert message.to == ["nouvelle.agente@exemple.fr"]
    assert "Commune A" in message.subject
    assert "Régine Responsable" in message.body and "agent" in message.body
    invitation = StaffInvitation.objects.get()
    token = _path(link).rstrip("/").rsplit("/", 1)[-1]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64

    client.logout()
    # Not signed in: the link leads to "Créer ou accéder à mon compte usager", then back.
    response = client.get(_path(link))
    assert response.status_code == 302
    assert response["Location"].startswith("/compte/acces/?next=")
    with send_mail_now():
        response = client.post(
            "/compte/inscription/",
            {
                "email": "nouvelle.agente@exemple.fr",
                "password": "Un-mot-de-passe-solide-42",
                "first_name": "Nina",
                "last_name": "Nouvelle",
                "phone": "0612345678",
                "address": "2 rue de la Mairie",
                "next": _path(link),
            },
        )
    assert response.status_code == 302 and response["Location"] == _path(link)
    page = client.get(_path(link)).content.decode()
    assert "Rejoindre l’équipe de Commune A" in page and "agent" in page

    response = client.post(_path(link))

    assert response["Location"] == "/c/commune-a/gestion/"
    membership = Membership.objects.get(user__email="nouvelle.agente@exemple.fr")
    assert membership.commune == commune_a and membership.role == Role.AGENT
    assert membership.user.email_verified_at is not None
    assert client.get("/c/commune-a/gestion/").status_code == 200
    # Replayed: refused, nothing more created.
    replay = client.post(_path(link))
    assert replay.status_code == 400
    assert "n’est plus valide" in replay.content.decode()
    assert Membership.objects.filter(user__email="nouvelle.agente@exemple.fr").count() == 1
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "staff.invite",
        "staff.join",
    }


def test_an_existing_account_joins_as_manager_on_accepting(
    client, manager, commune_a, send_mail_now
):
    parent = UserFactory(email="parent.existant@exemple.fr")
    client.force_login(manager)
    link = _invite(client, send_mail_now, "Parent.Existant@exemple.fr", Role.MANAGER)
    client.force_login(parent)

    client.post(_path(link))

    assert Membership.objects.get(user=parent).role == Role.MANAGER


def test_an_expired_link_is_refused(client, manager, commune_a, send_mail_now):
    invitee = UserFactory(email="tardif@exemple.fr")
    client.force_login(manager)
    link = _invite(client, send_mail_now, invitee.email)
    client.force_login(invitee)

    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        response = client.post(_path(link))

    assert response.status_code == 400
    assert not Membership.objects.filter(user=invitee).exists()


def test_another_account_cannot_use_the_link(client, manager, commune_a, send_mail_now):
    client.force_login(manager)
    link = _invite(client, send_mail_now, "la.bonne@exemple.fr")
    intruder = UserFactory(email="un.autre@exemple.fr")
    client.force_login(intruder)

    response = client.post(_path(link))

    assert response.status_code == 403
    assert not Membership.objects.filter(user=intruder).exists()


def test_the_link_of_commune_a_does_not_open_commune_b(client, manager, send_mail_now):
    invitee = UserFactory(email="invite@exemple.fr")
    client.force_login(manager)
    link = _invite(client, send_mail_now, invitee.email)
    client.force_login(invitee)

    response = client.post(_path(link).replace("/c/commune-a/", "/c/commune-b/"))

    assert response.status_code == 400
    assert not Membership.objects.filter(user=invitee).exists()


def test_a_new_invitation_cancels_the_previous_link(client, manager, send_mail_now):
    invitee = UserFactory(email="deux.fois@exemple.fr")
    client.force_login(manager)
    first = _invite(client, send_mail_now, invitee.email)
    second = _invite(client, send_mail_now, invitee.email, Role.MANAGER)
    client.force_login(invitee)

    assert client.post(_path(first)).status_code == 400
    client.post(_path(second))
    assert Membership.objects.get(user=invitee).role == Role.MANAGER


def test_a_withdrawn_invitation_no_longer_works(client, manager, send_mail_now):
    invitee = UserFactory(email="retiree@exemple.fr")
    client.force_login(manager)
    link = _invite(client, send_mail_now, invitee.email)
    invitation = StaffInvitation.objects.get()
    assert "retiree@exemple.fr" in client.get(TEAM).content.decode()

    client.post(f"{TEAM}invitations/{invitation.pk}/annuler/")

    client.force_login(invitee)
    assert client.post(_path(link)).status_code == 400


def test_inviting_someone_already_on_the_team_is_refused(manager_client, commune_a):
    _member(commune_a, email="deja@exemple.fr")

    response = manager_client.post(TEAM, {"email": "deja@exemple.fr", "role": "agent"})

    assert response.status_code == 400
    assert "fait déjà partie de l’équipe" in response.content.decode()
    assert not StaffInvitation.objects.exists()


def test_a_bad_email_or_role_is_a_french_error(manager_client):
    response = manager_client.post(TEAM, {"email": "pas-une-adresse", "role": "chef"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide." in page
    assert "Sélectionnez un choix valide" in page  # the role
    assert not StaffInvitation.objects.exists()


def test_a_manager_changes_a_role_and_it_is_audited(manager_client, commune_a):
    agent = _member(commune_a)
    membership = Membership.objects.get(user=agent)

    manager_client.post(f"{TEAM}{membership.pk}/role/", {"role": "manager"})

    membership.refresh_from_db()
    assert membership.role == Role.MANAGER
    entry = AuditEntry.objects.get(action="staff.role")
    assert entry.details == {"user": agent.pk, "from": "agent", "to": "manager"}


def test_the_last_manager_can_neither_demote_nor_remove_themself(
    manager_client, manager, commune_a
):
    mine = Membership.objects.get(user=manager)

    response = manager_client.post(f"{TEAM}{mine.pk}/role/", {"role": "agent"}, follow=True)
    assert "au moins un responsable" in response.content.decode()
    response = manager_client.post(f"{TEAM}{mine.pk}/retirer/")
    assert response.status_code == 409
    assert "au moins un responsable" in response.content.decode()

    mine.refresh_from_db()
    assert mine.role == Role.MANAGER


def test_with_a_second_manager_one_may_step_down_and_leave(manager_client, manager, commune_a):
    _member(commune_a, Role.MANAGER)
    mine = Membership.objects.get(user=manager)

    manager_client.post(f"{TEAM}{mine.pk}/role/", {"role": "agent"})
    mine.refresh_from_db()
    assert mine.role == Role.AGENT
    # Now an agent: the team page is closed to them.
    assert manager_client.get(TEAM).status_code == 403


def test_a_manager_removes_an_agent(manager_client, commune_a, commune_b):
    agent = _member(commune_a)
    Membership.objects.create(user=agent, commune=commune_b, role=Role.AGENT)
    membership = Membership.objects.get(user=agent, commune=commune_a)
    assert manager_client.get(f"{TEAM}{membership.pk}/retirer/").status_code == 200

    manager_client.post(f"{TEAM}{membership.pk}/retirer/")

    assert not Membership.objects.filter(user=agent, commune=commune_a).exists()
    assert Membership.objects.filter(user=agent, commune=commune_b).exists()  # B untouched
    assert AuditEntry.objects.filter(action="staff.remove").count() == 1


def test_a_member_of_another_commune_is_a_404(manager_client, commune_b):
    other = _member(commune_b, Role.MANAGER)
    theirs = Membership.objects.get(user=other)

    assert manager_client.post(f"{TEAM}{theirs.pk}/role/", {"role": "agent"}).status_code == 404
    assert manager_client.post(f"{TEAM}{theirs.pk}/retirer/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.role == Role.MANAGER


def test_an_invitation_of_another_commune_cannot_be_withdrawn(
    client, commune_b, send_mail_now, manager
):
    manager_b = _member(commune_b, Role.MANAGER)
    client.force_login(manager_b)
    with send_mail_now():
        client.post("/c/commune-b/gestion/equipe/", {"email": "b@exemple.fr", "role": "agent"})
    invitation = StaffInvitation.objects.get()
    client.force_login(manager)

    assert client.post(f"{TEAM}invitations/{invitation.pk}/annuler/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.cancelled_at is None


@pytest.mark.parametrize(
    "path", [TEAM, f"{TEAM}1/retirer/", f"{TEAM}1/role/", f"{TEAM}invitations/1/annuler/"]
)
def test_agents_parents_other_managers_and_anonymous_are_refused(
    client, commune_a, commune_b, path
):
    agent = _member(commune_a)
    parent = UserFactory()
    other_manager = _member(commune_b, Role.MANAGER)
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code in (302, 405)
        if response.status_code == 302:
            assert response["Location"].startswith("/compte/acces/?next=")
    for user in (agent, parent, other_manager):
        client.force_login(user)
        assert client.post(path, {"email": "x@exemple.fr", "role": "manager"}).status_code == 403
    assert not StaffInvitation.objects.exists()


def test_two_managers_demoting_each_other_leave_one_manager(commune_a, in_commune):
    """The rule holds in the use case itself (under a lock), not only in the page."""
    from tenant_apps.backoffice.services_staff import LastManager, change_staff_role

    first = _member(commune_a, Role.MANAGER)
    second = _member(commune_a, Role.MANAGER)
    with in_commune(commune_a):
        change_staff_role(
            commune=commune_a,
            changed_by=first,
            membership_id=Membership.objects.get(user=second).pk,
            role=Role.AGENT,
        )
        with pytest.raises(LastManager):
            change_staff_role(
                commune=commune_a,
                changed_by=first,
                membership_id=Membership.objects.get(user=first).pk,
                role=Role.AGENT,
            )
    assert Membership.objects.filter(commune=commune_a, role=Role.MANAGER).count() == 1


def test_sign_in_with_password_then_accept(client, manager, send_mail_now):
    """An existing account not signed in: the link, the password step, back to the link."""
    invitee = UserFactory(email="avec.compte@exemple.fr")
    client.force_login(manager)
    link = _invite(client, send_mail_now, invitee.email)
    client.logout()

    response = client.post(
        "/compte/connexion/",
        {"email": invitee.email, "password": PASSWORD, "next": _path(link)},
    )
    assert response["Location"] == _path(link)
    client.post(_path(link))

    assert Membership.objects.filter(user=invitee).exists()
