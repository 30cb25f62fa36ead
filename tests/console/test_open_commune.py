"""Opening a commune from the console: a clone of the template, its first manager invited."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_exists

from console.models import CommuneHealth
from shared_apps.audit.models import AuditEntry
from tenants.models import Commune, Membership, Role, StaffInvitation
from tests.fixtures.clients import link_in

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Villeneuve",
    "slug": "villeneuve",
    "insee_code": "01449",
    "holiday_zone": "",
    "manager_email": "Maire@Villeneuve.fr",
}


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def test_an_operator_opens_a_commune_and_its_first_manager_is_invited_by_email(
    operator, send_mail_now, client
):
    with send_mail_now():
        response = operator.web.post("/operateur/communes/nouvelle/", FORM)

    commune = Commune.objects.get(slug="villeneuve")
    assert response.status_code == 302
    assert response["Location"] == f"/operateur/communes/{commune.pk}/"
    assert schema_exists("c_villeneuve")
    assert commune.holiday_zone == "A" and commune.insee_code == "01449"
    invitation = StaffInvitation.objects.get(commune=commune)
    assert invitation.email == "maire@villeneuve.fr" and invitation.role == Role.MANAGER
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maire@villeneuve.fr"]
    assert "La commune Villeneuve vous invite" in message.body
    assert "/c/villeneuve/" in link_in(message, "/equipe/invitation/")
    entry = AuditEntry.objects.get(action="operator.commune_open")
    assert entry.actor == operator and entry.commune == commune
    assert CommuneHealth.objects.filter(commune=commune).exists()  # its figures, at once
    page = operator.web.get(response["Location"]).content.decode()
    assert "Villeneuve" in page and "Suspendre la commune" in page
    assert client.get("/c/villeneuve/").status_code == 200  # served at once


def test_the_invited_manager_joins_the_new_commune_as_its_manager(operator, send_mail_now):
    from tests.console.conftest import page_client
    from tests.factories import UserFactory

    with send_mail_now():
        operator.web.post("/operateur/communes/nouvelle/", FORM)
    link = link_in(mail.outbox[0], "/equipe/invitation/")
    path = link.split("://", 1)[1].split("/", 1)[1]
    manager = UserFactory(email="maire@villeneuve.fr")

    page_client(manager).post(f"/{path}")

    membership = Membership.objects.get(user=manager)
    assert membership.commune.slug == "villeneuve" and membership.role == Role.MANAGER


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"slug": "Avec Espace"}, "slug", "Identifiant invalide"),
        ({"slug": "admin"}, "slug", "Identifiant invalide"),
        ({"name": ""}, "name", "Ce champ est obligatoire"),
        ({"insee_code": ""}, "insee_code", "Ce champ est obligatoire"),
        ({"insee_code": "99999"}, "insee_code", ""),
        ({"holiday_zone": "C"}, "holiday_zone", "ne correspond pas au code INSEE"),
        ({"manager_email": "pas-une-adresse"}, "manager_email", "adresse e-mail valide"),
        ({"manager_email": ""}, "manager_email", "Ce champ est obligatoire"),
    ],
)
def test_bad_input_is_explained_in_french_and_creates_nothing(
    operator, send_mail_now, change, field, message
):
    communes, schemas = Commune.objects.count(), _schemas()

    with send_mail_now():
        response = operator.web.post("/operateur/communes/nouvelle/", {**FORM, **change})

    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors or form.non_field_errors(), form.errors
    text = response.content.decode()
    assert "Le formulaire contient" in text
    if message:
        assert message in text
    assert Commune.objects.count() == communes
    assert _schemas() == schemas
    assert not StaffInvitation.objects.exists() and not mail.outbox
    assert not AuditEntry.objects.filter(action__startswith="operator.").exists()


def test_a_slug_already_used_is_refused(operator, commune_a, send_mail_now):
    with send_mail_now():
        response = operator.web.post(
            "/operateur/communes/nouvelle/", {**FORM, "slug": "commune-a", "name": "Autre"}
        )

    assert response.status_code == 400
    assert "Une commune utilise déjà cet identifiant." in response.content.decode()
    assert Commune.objects.get(slug="commune-a").name == "Commune A"
    assert not StaffInvitation.objects.exists() and not mail.outbox
