"""Account and family pages, walked as a parent would (guide steps 1–2)."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from shared_apps.accounts.models import User
from shared_apps.families.models import Child
from tests.factories import PASSWORD, UserFactory
from tests.fixtures.clients import link_in

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def test_guide_steps_one_and_two_through_the_pages(client, send_mail_now):
    # Step 1: "Créer ou accéder à mon compte usager", e-mail first.
    home = client.get("/")
    assert "Créer ou accéder à mon compte usager" in _text(home)
    start = client.post("/compte/acces/", {"email": "nouveau.parent@exemple.fr"})
    assert start.status_code == 302 and "/compte/inscription/" in start.url

    form = client.get(start.url)
    assert 'value="nouveau.parent@exemple.fr"' in _text(form)
    with send_mail_now():
        created = client.post(
            "/compte/inscription/",
            {
                "email": "nouveau.parent@exemple.fr",
                "first_name": "Inès",
                "last_name": "Bernard",
                "phone": "06 11 22 33 44",
                "address": "5 place de l’Église\n01990 Baneins",
                "password": "une-phrase-secrete",
            },
        )
    assert created.status_code == 302 and created.url == "/famille/"
    user = User.objects.get(email="nouveau.parent@exemple.fr")

    # The verification e-mail's link confirms the address.
    verify_url = link_in(mail.outbox[0], "/compte/verifier/")
    client.get(verify_url.replace("http://localhost:8000", ""))
    user.refresh_from_db()
    assert user.email_verified

    # Step 2: "Mes filiations" → one form per child → "Enregistrer".
    page = client.get("/famille/")
    assert "Mes filiations" in _text(page) and "Enregistrer" in _text(page)
    saved = client.post(
        "/famille/",
        {
            "last_name": "Bernard",
            "first_name": "Nina",
            "birth_date": "2018-03-02",
            "relation": "mother",
            "school_class": "CE1",
            "notes": "PAI asthme",
        },
        follow=True,
    )
    assert "Nina Bernard" in _text(saved)
    assert "Vous êtes : mère" in _text(saved)

    # Log out, then come back: the known e-mail leads to the password.
    client.post("/compte/deconnexion/")
    back = client.post("/compte/acces/", {"email": "Nouveau.Parent@exemple.fr"})
    assert "/compte/connexion/" in back.url
    logged = client.post(
        "/compte/connexion/",
        {"email": "nouveau.parent@exemple.fr", "password": "une-phrase-secrete"},
    )
    assert logged.status_code == 302
    assert "Nina Bernard" in _text(client.get("/famille/"))


def test_login_rotates_the_session_key(client, user):
    client.get("/compte/acces/")
    client.cookies["sessionid"] = "fixation-attempt"
    client.post("/compte/connexion/", {"email": user.email, "password": PASSWORD})
    assert client.cookies["sessionid"].value != "fixation-attempt"


def test_wrong_password_shows_a_french_error(client, user):
    response = client.post("/compte/connexion/", {"email": user.email, "password": "faux"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in _text(response)


def test_lockout_page_is_french(client, user):
    for _ in range(5):
        client.post("/compte/connexion/", {"email": user.email, "password": "faux"})
    response = client.post("/compte/connexion/", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Trop de tentatives" in _text(response)
    assert "_auth_user_id" not in client.session


def test_sign_up_errors_are_shown_and_nothing_is_saved(client):
    response = client.post(
        "/compte/inscription/",
        {
            "email": "x@exemple.fr",
            "first_name": "",
            "last_name": "B",
            "phone": "123",
            "address": "",
            "password": "123",
        },
    )
    text = _text(response)
    assert response.status_code == 200
    assert "Le formulaire contient" in text
    assert "Numéro de téléphone français attendu" in text
    assert not User.objects.filter(email="x@exemple.fr").exists()


def test_forgot_password_page_never_tells_whether_the_email_exists(client, user, send_mail_now):
    with send_mail_now():
        known = client.post("/compte/mot-de-passe-oublie/", {"email": user.email})
        unknown = client.post("/compte/mot-de-passe-oublie/", {"email": "inconnu@exemple.fr"})
    strip = lambda r: re.sub(r"[\w.+-]+@[\w.-]+", "EMAIL", _text(r))  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(mail.outbox) == 1


def test_reset_page_then_the_link_is_dead(client, user, send_mail_now):
    with send_mail_now():
        client.post("/compte/mot-de-passe-oublie/", {"email": user.email})
    path = link_in(mail.outbox[0], "/compte/mot-de-passe/nouveau/").replace(
        "http://localhost:8000", ""
    )
    assert client.get(path).status_code == 200
    assert client.post(path, {"password": "tout-nouveau-2026"}).status_code == 302
    dead = client.get(path)
    assert dead.status_code == 400
    assert "Ce lien ne fonctionne plus" in _text(dead)


def test_profile_edit_and_password_change(client, user):
    client.force_login(user)
    response = client.post(
        "/compte/",
        {
            "first_name": "Zoé",
            "last_name": "Durand",
            "phone": "0471000000",
            "address": "1 rue\n43000 Le Puy",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.phone) == ("Zoé", "04 71 00 00 00")

    changed = client.post(
        "/compte/mot-de-passe/",
        {"current_password": PASSWORD, "new_password": "nouvelle-phrase-77"},
    )
    assert changed.status_code == 302
    user.refresh_from_db()
    assert user.check_password("nouvelle-phrase-77")
    assert client.get("/compte/").status_code == 200  # still logged in here


def test_pages_need_login(client):
    for path in ("/compte/", "/famille/", "/famille/inviter/", "/compte/mot-de-passe/"):
        response = client.get(path)
        assert response.status_code == 302 and "/compte/acces/" in response.url


def test_child_form_errors_in_french_and_nothing_saved(client, user):
    client.force_login(user)
    response = client.post(
        "/famille/",
        {"last_name": "X", "first_name": "Y", "birth_date": "2999-01-01", "relation": "mother"},
    )
    assert "La date de naissance ne peut pas être dans le futur." in _text(response)
    assert not Child.objects.exists()


def test_another_familys_child_pages_are_404(client, user):
    other = UserFactory()
    client.force_login(other)
    client.post(
        "/famille/",
        {"last_name": "X", "first_name": "Y", "birth_date": "2019-01-01", "relation": "father"},
    )
    child = Child.objects.get()
    client.force_login(user)
    assert client.get(f"/famille/enfants/{child.pk}/modifier/").status_code == 404
    assert client.post(f"/famille/enfants/{child.pk}/retirer/").status_code == 404
    child.refresh_from_db()
    assert child.removed_at is None


def test_remove_child_asks_first_and_says_what_happens(client, user):
    client.force_login(user)
    client.post(
        "/famille/",
        {"last_name": "X", "first_name": "Yann", "birth_date": "2019-01-01", "relation": "father"},
    )
    child = Child.objects.get()
    confirm = client.get(f"/famille/enfants/{child.pk}/retirer/")
    assert "Retirer Yann X de votre famille ?" in _text(confirm)
    assert "historique" in _text(confirm)
    client.post(f"/famille/enfants/{child.pk}/retirer/")
    assert "Yann X" not in _text(client.get("/famille/"))


def test_invitation_page_flow(client, user, send_mail_now):
    client.force_login(user)
    with send_mail_now():
        client.post("/famille/inviter/", {"email": "conjoint@exemple.fr"})
    path = link_in(mail.outbox[0], "/famille/invitation/").replace("http://localhost:8000", "")
    partner = UserFactory(email="conjoint@exemple.fr")
    client.force_login(partner)
    assert user.first_name in _text(client.get(path))
    client.post(path)
    assert partner.guardian.family_id == user.guardian.family_id


def test_open_redirect_is_refused(client, user):
    response = client.post(
        "/compte/connexion/?next=https://evil.example/",
        {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.url == "/mon-espace/"


def test_account_forms_are_rate_limited_per_address(client):
    statuses = [
        client.post("/compte/acces/", {"email": f"p{i}@exemple.fr"}).status_code for i in range(32)
    ]
    assert statuses[:30] == [302] * 30
    assert statuses[-1] == 429
