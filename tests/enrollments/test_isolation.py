"""Access requests never cross a commune or a family boundary."""

from __future__ import annotations

import pytest

from tenant_apps.catalog.models import DocumentType, Service, ServiceKind
from tenant_apps.enrollments.models import AccessRequest, Document
from tests.factories import UserFactory
from tests.fixtures.clients import client_for
from tests.fixtures.files import pdf_file, png_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_in_b(parent, commune_b, in_commune):
    """A request of the same family, sent to commune B."""
    with in_commune(commune_b):
        service = Service.objects.create(kind=ServiceKind.GARDERIE, name="Garderie")
        DocumentType.objects.create(service=service, code="domicile", label="Domicile")
    response = client_for(parent).post(
        "/c/commune-b/api/v1/access-requests",
        {"service_id": service.pk, "children": [parent.hugo.pk], "domicile": pdf_file()},
        format="multipart",
    )
    assert response.status_code == 201
    with in_commune(commune_b):
        document_id = Document.objects.get().pk
    return response.json()["id"], document_id


def test_staff_of_a_cannot_use_bs_staff_endpoints(agent_a, request_in_b):
    request_id, document_id = request_in_b
    staff = client_for(agent_a)
    for method, path in [
        ("get", "/c/commune-b/api/v1/staff/access-requests"),
        ("get", f"/c/commune-b/api/v1/staff/access-requests/{request_id}"),
        ("post", f"/c/commune-b/api/v1/staff/access-requests/{request_id}/decision"),
        ("get", f"/c/commune-b/api/v1/staff/documents/{document_id}"),
    ]:
        response = getattr(staff, method)(path, {"decision": "accept"})
        assert response.status_code == 403, path


def test_bs_ids_asked_under_a_are_404(agent_a, request_in_b, commune_b, in_commune):
    request_id, document_id = request_in_b
    staff = client_for(agent_a)
    assert staff.get(f"/c/commune-a/api/v1/staff/access-requests/{request_id}").status_code == 404
    assert staff.get(f"/c/commune-a/api/v1/staff/documents/{document_id}").status_code == 404
    decided = staff.post(
        f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision", {"decision": "accept"}
    )
    assert decided.status_code == 404
    assert (
        staff.get("/c/commune-a/api/v1/staff/access-requests?status=submitted").json()["count"] == 0
    )
    with in_commune(commune_b):
        assert AccessRequest.objects.get().status == "submitted"


def test_staff_pages_of_b_are_forbidden_to_staff_of_a(client, agent_a, request_in_b):
    request_id, document_id = request_in_b
    client.force_login(agent_a)
    assert client.get("/c/commune-b/gestion/demandes/").status_code == 403
    assert client.get(f"/c/commune-b/gestion/demandes/{request_id}/").status_code == 403
    assert client.get(f"/c/commune-b/gestion/documents/{document_id}/").status_code == 403
    assert client.get(f"/c/commune-a/gestion/demandes/{request_id}/").status_code == 404


def test_parent_cannot_reach_staff_endpoints_or_pages(client, parent, submit):
    request_id = submit().json()["id"]
    api = client_for(parent)
    assert api.get("/c/commune-a/api/v1/staff/access-requests").status_code == 403
    assert (
        api.post(
            f"/c/commune-a/api/v1/staff/access-requests/{request_id}/decision",
            {"decision": "accept"},
        ).status_code
        == 403
    )
    client.force_login(parent)
    assert client.get("/c/commune-a/gestion/demandes/").status_code == 403


def test_another_family_sees_nothing_of_a_request(submit, commune_a, in_commune, client):
    request_id = submit().json()["id"]
    with in_commune(commune_a):
        document_id = Document.objects.first().pk
    stranger = UserFactory()
    api = client_for(stranger)
    assert api.get(f"/c/commune-a/api/v1/access-requests/{request_id}").status_code == 404
    assert api.get("/c/commune-a/api/v1/access-requests").json()["count"] == 0
    reupload = api.post(
        f"/c/commune-a/api/v1/access-requests/{request_id}/documents",
        {"domicile": png_file()},
        format="multipart",
    )
    assert reupload.status_code == 404
    client.force_login(stranger)
    assert client.get(f"/c/commune-a/demandes/{request_id}/").status_code == 404
    assert client.get(f"/c/commune-a/documents/{document_id}/").status_code == 404


def test_anonymous_gets_401_and_login_redirects(api, submit, client):
    submit()
    assert api.get("/c/commune-a/api/v1/access-requests").status_code == 401
    assert api.get("/c/commune-a/api/v1/staff/access-requests").status_code == 401
    response = client.get("/c/commune-a/gestion/demandes/")
    assert response.status_code == 302 and "/compte/acces/" in response.url


def test_parent_sees_only_the_request_of_this_commune(parent, submit, request_in_b):
    submit()
    api = client_for(parent)
    in_a = api.get("/c/commune-a/api/v1/access-requests").json()["results"]
    in_b = api.get("/c/commune-b/api/v1/access-requests").json()["results"]
    assert [r["service_name"] for r in in_a] == ["Cantine"]
    assert [r["service_name"] for r in in_b] == ["Garderie"]


def test_staff_only_sees_the_children_named_in_the_request(agent_a, parent, submit):
    request_id = submit().json()["id"]  # Léa only, not Hugo
    detail = (
        client_for(agent_a).get(f"/c/commune-a/api/v1/staff/access-requests/{request_id}").json()
    )
    assert [c["first_name"] for c in detail["children"]] == ["Léa"]
