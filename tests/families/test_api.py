"""Family API: children and invitations; another family's data is never reachable."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from shared_apps.families.models import Child, Guardian, Invitation
from tests.factories import UserFactory
from tests.fixtures.clients import api_token_for

pytestmark = pytest.mark.django_db

LEA = {
    "last_name": " Martin ",
    "first_name": "Léa",
    "birth_date": "2017-05-12",
    "relation": "mother",
    "school_class": "CE2",
    "notes": "Allergie aux arachides",
}


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(user)}")
    return client


def test_add_and_list_children(auth_api):
    created = auth_api.post("/api/v1/family/children", LEA)
    assert created.status_code == 201
    child = created.json()
    assert child["id"] and child["last_name"] == "Martin" and child["relation"] == "mother"
    assert child["relation_label"] == "Mère"

    listing = auth_api.get("/api/v1/family/children").json()
    assert listing["count"] == 1
    assert listing["results"][0]["first_name"] == "Léa"
    assert auth_api.get("/api/v1/me").json()["family_id"] is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("birth_date", "2999-01-01"),
        ("birth_date", "1950-01-01"),
        ("birth_date", "12/05/2017"),
        ("birth_date", ""),
        ("relation", "oncle"),
        ("relation", ""),
        ("first_name", "  "),
        ("last_name", "x" * 151),
        ("school_class", "x" * 41),
        ("notes", "x" * 2001),
    ],
)
def test_bad_child_input_is_refused_and_nothing_saved(auth_api, field, value):
    response = auth_api.post("/api/v1/family/children", {**LEA, field: value})
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not Child.objects.exists()


def test_future_birth_date_message_is_french(auth_api):
    response = auth_api.post("/api/v1/family/children", {**LEA, "birth_date": "2999-01-01"})
    assert response.json()["error"]["fields"]["birth_date"] == [
        "La date de naissance ne peut pas être dans le futur."
    ]


def test_the_same_child_twice_is_refused(auth_api):
    auth_api.post("/api/v1/family/children", LEA)
    again = auth_api.post(
        "/api/v1/family/children", {**LEA, "first_name": "LÉA", "last_name": "martin"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_child"
    assert Child.objects.count() == 1


def test_edit_and_remove_a_child(auth_api):
    child_id = auth_api.post("/api/v1/family/children", LEA).json()["id"]
    edited = auth_api.patch(
        f"/api/v1/family/children/{child_id}", {"school_class": "CM1", "relation": "guardian"}
    )
    assert edited.status_code == 200
    assert edited.json()["school_class"] == "CM1" and edited.json()["relation"] == "guardian"

    assert auth_api.delete(f"/api/v1/family/children/{child_id}").status_code == 204
    assert auth_api.get("/api/v1/family/children").json()["count"] == 0
    assert auth_api.get(f"/api/v1/family/children/{child_id}").status_code == 404


def test_bad_edit_changes_nothing(auth_api):
    child_id = auth_api.post("/api/v1/family/children", LEA).json()["id"]
    response = auth_api.patch(
        f"/api/v1/family/children/{child_id}", {"school_class": "CM1", "birth_date": "2999-01-01"}
    )
    assert response.status_code == 400
    assert Child.objects.get(pk=child_id).school_class == "CE2"


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_familys_child_is_a_404(auth_api, method):
    other = _client_for(UserFactory())
    foreign_id = other.post("/api/v1/family/children", LEA).json()["id"]

    response = getattr(auth_api, method)(
        f"/api/v1/family/children/{foreign_id}", {"first_name": "Pirate"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    foreign = Child.objects.get(pk=foreign_id)
    assert foreign.first_name == "Léa" and foreign.removed_at is None


def test_another_familys_children_are_not_listed(auth_api):
    _client_for(UserFactory()).post("/api/v1/family/children", LEA)
    assert auth_api.get("/api/v1/family/children").json()["count"] == 0


def test_children_endpoints_need_authentication(api):
    assert api.get("/api/v1/family/children").status_code == 401
    assert api.post("/api/v1/family/children", LEA).status_code == 401


def _invite(client, email, send_mail_now) -> str:
    with send_mail_now():
        response = client.post("/api/v1/family/invitations", {"email": email})
    assert response.status_code == 201, response.json()
    link = [m for m in mail.outbox if email.lower() in m.to][-1]
    from tests.fixtures.clients import link_in

    return link_in(link, "/famille/invitation/").rstrip("/").rsplit("/", 1)[1]


def test_invited_guardian_joins_and_shares_the_children(auth_api, send_mail_now):
    auth_api.post("/api/v1/family/children", LEA)
    partner = UserFactory(email="partenaire@exemple.fr")
    token = _invite(auth_api, "Partenaire@Exemple.fr", send_mail_now)

    partner_api = _client_for(partner)
    response = partner_api.post("/api/v1/family/invitations/accept", {"token": token})

    assert response.status_code == 200
    assert partner_api.get("/api/v1/family/children").json()["results"][0]["first_name"] == "Léa"
    assert (
        partner_api.get("/api/v1/me").json()["family_id"]
        == auth_api.get("/api/v1/me").json()["family_id"]
    )
    # Each guardian states their own relation to the child.
    assert partner_api.get("/api/v1/family/children").json()["results"][0]["relation"] is None


def test_invitation_is_refused_to_anyone_but_the_invited_email(auth_api, send_mail_now):
    token = _invite(auth_api, "invitee@exemple.fr", send_mail_now)
    intruder = UserFactory(email="intrus@exemple.fr")

    response = _client_for(intruder).post("/api/v1/family/invitations/accept", {"token": token})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "invitation_email_mismatch"
    assert not Guardian.objects.filter(user=intruder).exists()
    assert Invitation.objects.get().accepted_at is None


def test_invitation_cannot_be_used_twice(auth_api, send_mail_now):
    token = _invite(auth_api, "invitee@exemple.fr", send_mail_now)
    invitee = _client_for(UserFactory(email="invitee@exemple.fr"))
    assert invitee.post("/api/v1/family/invitations/accept", {"token": token}).status_code == 200
    again = invitee.post("/api/v1/family/invitations/accept", {"token": token})
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_invitation"


def test_expired_invitation_is_refused(auth_api, send_mail_now):
    token = _invite(auth_api, "invitee@exemple.fr", send_mail_now)
    invitee = _client_for(UserFactory(email="invitee@exemple.fr"))
    with time_machine.travel(timezone.now() + datetime.timedelta(days=8)):
        response = invitee.post("/api/v1/family/invitations/accept", {"token": token})
    assert response.status_code == 400
    assert not Guardian.objects.filter(user__email="invitee@exemple.fr").exists()


def test_a_guardian_with_children_elsewhere_cannot_join_another_family(auth_api, send_mail_now):
    token = _invite(auth_api, "invitee@exemple.fr", send_mail_now)
    invitee = _client_for(UserFactory(email="invitee@exemple.fr"))
    invitee.post("/api/v1/family/children", {**LEA, "first_name": "Tom"})

    response = invitee.post("/api/v1/family/invitations/accept", {"token": token})

    assert response.status_code == 409
    assert invitee.get("/api/v1/family/children").json()["results"][0]["first_name"] == "Tom"


@pytest.mark.parametrize("email", ["", "pas-une-adresse"])
def test_invitation_needs_a_valid_email(auth_api, email):
    response = auth_api.post("/api/v1/family/invitations", {"email": email})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_inviting_yourself_is_refused(auth_api):
    response = auth_api.post("/api/v1/family/invitations", {"email": auth_api.user.email})
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_joining_a_family_keeps_the_history_of_ones_own(auth_api, send_mail_now):
    token = _invite(auth_api, "invitee@exemple.fr", send_mail_now)
    invitee_user = UserFactory(email="invitee@exemple.fr")
    invitee = _client_for(invitee_user)
    removed_id = invitee.post("/api/v1/family/children", {**LEA, "first_name": "Ancien"}).json()[
        "id"
    ]
    invitee.delete(f"/api/v1/family/children/{removed_id}")

    assert invitee.post("/api/v1/family/invitations/accept", {"token": token}).status_code == 200

    assert Child.objects.filter(pk=removed_id).exists()  # kept for the communes' history
    assert (
        invitee.get("/api/v1/me").json()["family_id"]
        == auth_api.get("/api/v1/me").json()["family_id"]
    )


@pytest.mark.parametrize("body", ["[]", '"x"', "null", "123"])
def test_a_json_body_that_is_not_an_object_is_a_400(auth_api, body):
    response = auth_api.post("/api/v1/family/children", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_not_an_object"
