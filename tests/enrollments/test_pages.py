"""Step 3 of the guide through the pages, and the staff review pages."""

from __future__ import annotations

import pytest
from django.core import mail

from shared_apps.audit.models import AuditEntry
from tenant_apps.enrollments.models import AccessRequest, Document, Enrollment
from tests.fixtures.files import pdf_file, png_file

pytestmark = pytest.mark.django_db


def test_parent_asks_for_access_through_the_pages(client, parent, cantine, commune_a, in_commune):
    client.force_login(parent)
    form = client.get(f"/c/commune-a/services/{cantine.pk}/demande/")
    text = form.content.decode()
    assert form.status_code == 200
    assert "Léa Martin" in text and "Justificatif de domicile" in text and "Valider" in text

    response = client.post(
        f"/c/commune-a/services/{cantine.pk}/demande/",
        {"children": [str(parent.lea.pk)], "doc_domicile": png_file(), "doc_assurance": pdf_file()},
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Envoyée" in page and "Vous serez alerté par e-mail" in page
    with in_commune(commune_a):
        assert AccessRequest.objects.count() == 1


def test_missing_document_is_shown_in_french_and_nothing_saved(
    client, parent, cantine, commune_a, in_commune
):
    client.force_login(parent)
    response = client.post(
        f"/c/commune-a/services/{cantine.pk}/demande/",
        {"children": [str(parent.lea.pk)], "doc_domicile": png_file()},
    )
    assert response.status_code == 200
    assert "Attestation d’assurance : pièce obligatoire." in response.content.decode()
    with in_commune(commune_a):
        assert not AccessRequest.objects.exists()


def test_staff_reviews_views_documents_and_decides(
    client, submit, agent_a, parent, commune_a, in_commune, send_mail_now
):
    request_id = submit().json()["id"]
    client.force_login(agent_a)

    queue = client.get("/c/commune-a/gestion/demandes/").content.decode()
    assert f"n° {request_id}" in queue and "Léa Martin" in queue

    detail = client.get(f"/c/commune-a/gestion/demandes/{request_id}/").content.decode()
    assert parent.email in detail and "Justificatif de domicile" in detail
    assert "Hugo" not in detail  # only the children named in the request
    with in_commune(commune_a):
        document = Document.objects.filter(content_type="application/pdf").first()
    shown = client.get(f"/c/commune-a/gestion/documents/{document.pk}/")
    assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"
    assert b"".join(shown.streaming_content).startswith(b"%PDF-")
    assert shown["X-Frame-Options"] == "SAMEORIGIN"

    with send_mail_now():
        decided = client.post(
            f"/c/commune-a/gestion/demandes/{request_id}/", {"decision": "accept", "reason": ""}
        )
    assert decided.status_code == 302
    with in_commune(commune_a):
        assert Enrollment.objects.filter(child_id=parent.lea.pk).exists()
    assert mail.outbox and "acceptée" in mail.outbox[0].subject
    assert AuditEntry.objects.filter(action="access_request.view").exists()
    assert AuditEntry.objects.filter(action="document.view", target_id=str(document.pk)).exists()


def test_staff_decision_errors_are_shown(client, submit, agent_a):
    request_id = submit().json()["id"]
    client.force_login(agent_a)
    response = client.post(
        f"/c/commune-a/gestion/demandes/{request_id}/", {"decision": "reject", "reason": ""}
    )
    assert response.status_code == 200
    assert "Indiquez le motif" in response.content.decode()


def test_parent_reuploads_after_info_request_through_the_page(
    client, submit, agent_a, parent, commune_a, in_commune
):
    request_id = submit().json()["id"]
    client.force_login(agent_a)
    client.post(
        f"/c/commune-a/gestion/demandes/{request_id}/",
        {"decision": "request_info", "reason": "Illisible", "document_code": "domicile"},
    )
    client.force_login(parent)
    page = client.get(f"/c/commune-a/demandes/{request_id}/").content.decode()
    assert "La mairie demande un complément" in page and "Illisible" in page
    response = client.post(
        f"/c/commune-a/demandes/{request_id}/", {"doc_domicile": pdf_file("nouveau.pdf")}
    )
    assert response.status_code == 302
    with in_commune(commune_a):
        assert AccessRequest.objects.get().status == "submitted"
        assert Document.objects.filter(
            original_name="nouveau.pdf", replaced_at__isnull=True
        ).exists()


def test_staff_sets_the_quotient_familial_audited(
    client, submit, agent_a, parent, commune_a, in_commune
):
    from tenant_apps.enrollments.models import FamilyProfile

    request_id = submit().json()["id"]
    client.force_login(agent_a)
    bad = client.post(
        f"/c/commune-a/gestion/demandes/{request_id}/",
        {"quotient_familial": "beaucoup"},
        follow=True,
    )
    assert "Quotient familial : un nombre entier" in bad.content.decode()
    client.post(f"/c/commune-a/gestion/demandes/{request_id}/", {"quotient_familial": "742"})
    with in_commune(commune_a):
        assert FamilyProfile.objects.get().quotient_familial == 742
    assert AuditEntry.objects.filter(action="family.quotient_familial", actor=agent_a).exists()
