"""Access requests end to end: parent → staff → e-mail → enrolment, and every bad upload."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from shared_apps.audit.models import AuditEntry
from tenant_apps.enrollments.models import AccessRequest, Document, Enrollment
from tests.fixtures.clients import client_for, link_in
from tests.fixtures.files import pdf_file, png_file

pytestmark = pytest.mark.django_db


def _stored_files(commune) -> list[str]:
    root = os.path.join(settings.MEDIA_ROOT, commune.schema_name)
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def test_whole_flow_parent_staff_email_enrolment(
    submit, parent, agent_a, commune_a, in_commune, send_mail_now
):
    created = submit()
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "submitted"
    assert {d["code"] for d in body["documents"]} == {"domicile", "assurance"}
    request_id = body["id"]

    staff = client_for(agent_a)
    queue = staff.get("/c/commune-a/api/v1/staff/access-requests?status=submitted").json()
    assert [r["id"] for r in queue["results"]] == [request_id]

    with send_mail_now():
        decided = staff.post(
            f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision",
            {"decision": "accept"},
        )
    assert decided.status_code == 200
    assert decided.json()["status"] == "accepted"

    with in_commune(commune_a):
        assert list(Enrollment.objects.values_list("child_id", flat=True)) == [parent.lea.pk]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [parent.email]
    assert "acceptée" in mail.outbox[0].subject
    assert "/c/commune-a/demandes/" in mail.outbox[0].body

    status = client_for(parent).get(f"/c/commune-a/api/v1/access-requests/{request_id}").json()
    assert status["status"] == "accepted"


@pytest.mark.parametrize(
    "decision", [{"decision": "accept"}, {"decision": "reject", "reason": "Hors secteur scolaire."}]
)
def test_the_access_decision_email_links_where_the_platform_is_served(
    submit, agent_a, send_mail_now, settings, decision
):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8123"
    request_id = submit().json()["id"]
    with send_mail_now():
        decided = client_for(agent_a).post(
            f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision", decision
        )
    assert decided.status_code == 200, decided.json()

    link = link_in(mail.outbox[0], "/c/commune-a/")
    assert link.startswith("http://127.0.0.1:8123/c/commune-a/")
    assert "localhost:8000" not in mail.outbox[0].body


def test_request_info_then_reupload_then_reject_with_reason(submit, parent, agent_a, send_mail_now):
    request_id = submit().json()["id"]
    staff = client_for(agent_a)
    with send_mail_now():
        staff.post(
            f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision",
            {
                "decision": "request_info",
                "reason": "Le justificatif date de 2019.",
                "document_code": "domicile",
            },
        )
    info = client_for(parent).get(f"/c/commune-a/api/v1/access-requests/{request_id}").json()
    assert info["status"] == "info_requested" and info["info_document_code"] == "domicile"
    assert [d["status"] for d in info["documents"] if d["code"] == "domicile"] == ["info_requested"]
    assert "Le justificatif date de 2019." in mail.outbox[-1].body

    parent_api = client_for(parent)
    resent = parent_api.post(
        f"/c/commune-a/api/v1/access-requests/{request_id}/documents",
        {"domicile": pdf_file("domicile-2026.pdf")},
        format="multipart",
    )
    assert resent.status_code == 200 and resent.json()["status"] == "submitted"
    current = [d for d in resent.json()["documents"] if d["code"] == "domicile"]
    assert current[0]["original_name"] == "domicile-2026.pdf"

    with send_mail_now():
        rejected = staff.post(
            f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision",
            {"decision": "reject", "reason": "Hors secteur scolaire."},
        )
    assert rejected.json()["status"] == "rejected"
    assert "Hors secteur scolaire." in mail.outbox[-1].body
    again = staff.post(
        f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision", {"decision": "accept"}
    )
    assert again.status_code == 409


def test_reject_without_reason_is_refused(submit, agent_a, commune_a, in_commune):
    request_id = submit().json()["id"]
    response = client_for(agent_a).post(
        f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision", {"decision": "reject"}
    )
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]
    with in_commune(commune_a):
        assert AccessRequest.objects.get().status == "submitted"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"domicile": None}, "domicile"),
        (
            {
                "assurance": SimpleUploadedFile(
                    "faux.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf"
                )
            },
            "assurance",
        ),
        ({"assurance": png_file("image.pdf")}, "assurance"),  # a PNG is not accepted for this piece
        ({"domicile": SimpleUploadedFile("vide.pdf", b"", "application/pdf")}, "domicile"),
        (
            {
                "domicile": SimpleUploadedFile(
                    "tronque.png", b"\x89PNG\r\n\x1a\nbroken", "image/png"
                )
            },
            "domicile",
        ),
        ({"children": []}, "children"),
        ({"inconnu": pdf_file()}, "inconnu"),
    ],
)
def test_bad_request_is_refused_with_a_clear_error_and_nothing_stored(
    submit, commune_a, in_commune, overrides, field
):
    response = submit(**overrides)

    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert response.json()["error"]["message"]
    with in_commune(commune_a):
        assert not AccessRequest.objects.exists()
        assert not Document.objects.exists()
    assert _stored_files(commune_a) == []


def test_too_big_file_is_refused_and_nothing_stored(submit, commune_a, in_commune):
    response = submit(assurance=pdf_file(size=settings.DOCUMENT_MAX_BYTES + 1))
    assert response.status_code == 400
    assert "10 Mo" in response.json()["error"]["fields"]["assurance"][0]
    with in_commune(commune_a):
        assert not AccessRequest.objects.exists()
    assert _stored_files(commune_a) == []


def test_another_familys_child_cannot_be_put_in_a_request(submit, commune_a, in_commune):
    from shared_apps.families.services import add_child
    from tests.factories import UserFactory

    stranger = UserFactory()
    foreign = add_child(
        user=stranger,
        data={
            "last_name": "X",
            "first_name": "Y",
            "birth_date": "2018-01-01",
            "relation": "father",
        },
    )
    response = submit(children=[foreign.pk])
    assert response.status_code == 400
    with in_commune(commune_a):
        assert not AccessRequest.objects.exists()


def test_same_child_twice_for_a_service_is_a_conflict(submit):
    assert submit().status_code == 201
    again = submit()
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_requested"


def test_files_are_stored_per_commune_under_a_random_name(submit, commune_a, in_commune):
    submit(domicile=png_file("ma-facture-gaz.png"))
    files = _stored_files(commune_a)
    assert len(files) == 2
    assert all(f"/{commune_a.schema_name}/documents/" in path for path in files)
    assert not any("facture" in path or "gaz" in path for path in files)


def test_audit_log_records_staff_views_and_decisions(submit, agent_a, commune_a, in_commune):
    request_id = submit().json()["id"]
    staff = client_for(agent_a)
    staff.get(f"/c/commune-a/api/v1/staff/access-requests/{request_id}")
    with in_commune(commune_a):
        document_id = Document.objects.first().pk
    assert staff.get(f"/c/commune-a/api/v1/staff/documents/{document_id}").status_code == 200
    staff.post(
        f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision", {"decision": "accept"}
    )

    entries = list(
        AuditEntry.objects.order_by("pk").values_list(
            "actor_id", "commune_id", "action", "target_id"
        )
    )
    assert entries == [
        (agent_a.pk, commune_a.pk, "access_request.view", str(request_id)),
        (agent_a.pk, commune_a.pk, "document.view", str(document_id)),
        (agent_a.pk, commune_a.pk, "access_request.accept", str(request_id)),
    ]


@pytest.mark.parametrize("body", ["[]", '"x"', "null", "123"])
def test_a_json_body_that_is_not_an_object_is_refused_with_a_400(parent_api, cantine, body):
    response = parent_api.post(
        "/c/commune-a/api/v1/access-requests", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "body_not_an_object"
