"""Fixtures for access requests: a commune service with documents, a family, staff."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings

from shared_apps.families.services import add_child
from tenant_apps.catalog.models import DocumentType, Service, ServiceKind
from tenants.models import Membership, Role
from tests.factories import UserFactory
from tests.fixtures.clients import client_for
from tests.fixtures.files import pdf_file, png_file


@pytest.fixture(autouse=True)
def _clean_test_media():
    """Files outlive the rolled-back test transaction: start and end each test with none."""
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def cantine(commune_a, in_commune):
    with in_commune(commune_a):
        service = Service.objects.create(kind=ServiceKind.CANTINE, name="Cantine")
        DocumentType.objects.create(
            service=service, code="domicile", label="Justificatif de domicile"
        )
        DocumentType.objects.create(
            service=service,
            code="assurance",
            label="Attestation d’assurance",
            accepted_formats=["pdf"],
        )
        DocumentType.objects.create(
            service=service, code="qf", label="Attestation de quotient familial", required=False
        )
    return service


@pytest.fixture
def parent(db):
    user = UserFactory(first_name="Camille", last_name="Martin")
    user.lea = add_child(
        user=user,
        data={
            "last_name": "Martin",
            "first_name": "Léa",
            "birth_date": "2017-05-12",
            "relation": "mother",
            "school_class": "CE2",
        },
    )
    user.hugo = add_child(
        user=user,
        data={
            "last_name": "Martin",
            "first_name": "Hugo",
            "birth_date": "2020-01-20",
            "relation": "mother",
        },
    )
    return user


@pytest.fixture
def parent_api(parent):
    return client_for(parent)


@pytest.fixture
def agent_a(commune_a):
    user = UserFactory(first_name="Agent", last_name="A")
    Membership.objects.create(user=user, commune=commune_a, role=Role.AGENT)
    return user


@pytest.fixture
def agent_b(commune_b):
    user = UserFactory(first_name="Agent", last_name="B")
    Membership.objects.create(user=user, commune=commune_b, role=Role.AGENT)
    return user


@pytest.fixture
def submit(parent_api, cantine):
    """POST a complete access request for Léa to commune A's canteen through the API."""

    def _submit(**overrides):
        data = {
            "service_id": cantine.pk,
            "children": [parent_api.user.lea.pk],
            "domicile": png_file(),
            "assurance": pdf_file(),
        }
        data.update(overrides)
        data = {k: v for k, v in data.items() if v is not None}
        return parent_api.post("/c/commune-a/api/v1/access-requests", data, format="multipart")

    return _submit
