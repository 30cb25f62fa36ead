"""The guide's steps 1–3 as a new parent: "Créer ou accéder à mon compte usager", the link of
the confirmation e-mail, "Mes filiations" (two children), the access request with its two
documents, accepted by an agent at another computer (a second browser context), then the
service open to book for both children."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from playwright.sync_api import expect

from demo.builders import demo_png
from shared_apps.accounts.models import User
from shared_apps.directory.services import publish_service
from shared_apps.families.models import Child
from tenant_apps.catalog.models import DocumentType
from tenant_apps.enrollments.models import AccessRequest, Enrollment
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.bookings import NOW
from tests.fixtures.clients import link_in
from tests.fixtures.files import blank_pdf_bytes

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

EMAIL = "ines.bernard@exemple.fr"
PASSWORD = "une-phrase-secrete-2026"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def add_child(page, first_name: str, birth_date: str, school_class: str) -> None:
    page.get_by_label(re.compile("^Nom de votre enfant")).fill("Bernard")
    page.get_by_label("Prénom de votre enfant").fill(first_name)
    page.get_by_label("Date de naissance de votre enfant").fill(birth_date)
    page.get_by_label("Qui êtes-vous par rapport à votre enfant ?").select_option("mother")
    page.get_by_label("Classe de votre enfant").fill(school_class)
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=3, name=f"{first_name} Bernard")).to_be_visible()


def test_new_parent_signs_up_asks_for_the_canteen_and_is_accepted_by_an_agent(
    clock, page, new_page, visit, sign_in, commune_a, in_commune, canteen, tmp_path
):
    with in_commune(commune_a):
        DocumentType.objects.create(
            service=canteen.service,
            code="justificatif-domicile",
            label="Justificatif de domicile",
            accepted_formats=["pdf", "png"],
        )
        DocumentType.objects.create(
            service=canteen.service,
            code="attestation-assurance",
            label="Attestation d’assurance scolaire",
            accepted_formats=["pdf"],
        )
    publish_service(
        commune=commune_a,
        service_id=canteen.service.pk,
        kind=canteen.service.kind,
        name=canteen.service.name,
        description="Repas du midi, les jours d’école.",
        is_active=True,
    )
    (tmp_path / "domicile.png").write_bytes(demo_png())
    (tmp_path / "assurance.pdf").write_bytes(blank_pdf_bytes())

    # Step 1: the e-mail first, then the sign-up form.
    page.goto("/")
    page.get_by_role("link", name="Créer ou accéder à mon compte usager").first.click()
    page.get_by_label("Votre adresse e-mail").fill(EMAIL)
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url("**/compte/inscription/**")
    expect(page.get_by_label("Adresse e-mail")).to_have_value(EMAIL)
    visit.check(page, "inscription")
    page.get_by_label("Prénom").fill("Inès")
    page.get_by_label(re.compile(r"^Nom\s*:")).fill("Bernard")
    page.get_by_label("Téléphone").fill("06 11 22 33 44")
    page.get_by_label("Adresse postale").fill("5 place de l’Église\n01990 Baneins")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Créer mon compte")).click()
    page.wait_for_url("**/famille/")
    expect(page.locator(".message-success")).to_contain_text(
        f"e-mail de confirmation a été envoyé à {EMAIL}"
    )

    # The link of the confirmation e-mail (sent by this process's live server).
    [message] = [m for m in mail.outbox if EMAIL in m.to]
    page.goto(urlsplit(link_in(message, "/compte/verifier/")).path)
    expect(page.locator(".message-success")).to_contain_text("Votre adresse e-mail est confirmée")
    assert User.objects.get(email=EMAIL).email_verified

    # Step 2: "Mes filiations", one form per child.
    page.goto("/famille/")
    add_child(page, "Nina", "2018-03-02", "CE1")
    add_child(page, "Léo", "2020-09-14", "GS")
    visit.check(page, "filiations-deux-enfants")
    assert Child.objects.filter(last_name="Bernard").count() == 2

    # Step 3: "Mes services" → the canteen of commune A → both children, two documents.
    page.goto("/services/")
    visit.check(page, "mes-services")
    page.get_by_role("link", name=re.compile("Demander l’accès au service Cantine")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demander l’accès : Cantine")
    page.get_by_label("Nina Bernard").check()
    page.get_by_label("Léo Bernard").check()
    page.get_by_label("Justificatif de domicile").set_input_files(tmp_path / "domicile.png")
    page.get_by_label("Attestation d’assurance scolaire").set_input_files(
        tmp_path / "assurance.pdf"
    )
    visit.check(page, "demande-acces")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_load_state("load")
    expect(page.locator(".message-success")).to_contain_text("Votre demande est envoyée au service")
    expect(page.locator("main")).to_contain_text("domicile.png")
    expect(page.locator("main")).to_contain_text("assurance.pdf")
    visit.check(page, "demande-envoyee")
    with in_commune(commune_a):
        access_request = AccessRequest.objects.get()
        assert access_request.status == "submitted"
        assert access_request.documents.count() == 2

    # An agent of commune A, at another computer, accepts it from the queue.
    agent = UserFactory(first_name="Agnès")
    Membership.objects.create(user=agent, commune=commune_a, role="agent")
    office = new_page()
    sign_in(agent, on=office)
    office.goto("/c/commune-a/gestion/demandes/")
    office.get_by_role("link", name=f"Demande n° {access_request.pk}").click()
    expect(office.locator("main")).to_contain_text("Nina Bernard")
    expect(office.locator("main")).to_contain_text("Léo Bernard")
    office.wait_for_load_state("networkidle")  # the documents shown in the page
    visit.check(office, "agent-demande")
    office.get_by_label("Accepter").check()
    office.get_by_role("button", name="Enregistrer la décision").click()
    office.wait_for_load_state("load")
    expect(office.locator("main")).to_contain_text("Acceptée")
    visit.check(office, "agent-acceptee")

    # Back at home, the parent finds the service open for both children.
    page.reload()
    expect(page.locator(".message-success")).to_contain_text("Votre demande est acceptée")
    page.goto("/services/")
    expect(page.locator(".request-state").first).to_contain_text("Acceptée")
    visit.check(page, "mes-services-ouvert")
    page.get_by_role("link", name=re.compile("^Réserver")).first.click()
    page.get_by_role("link", name="Réservation repas cantine").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Réservation repas cantine")
    children = page.locator('#booking-form input[name="children"]')
    expect(children).to_have_count(2)
    expect(page.locator('input[name="dates"]').first).to_be_enabled()
    visit.check(page, "calendrier-ouvert")

    with in_commune(commune_a):
        assert Enrollment.objects.filter(service=canteen.service).count() == 2
    assert page.js_errors == [] and office.js_errors == []
