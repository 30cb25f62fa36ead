"""Catalogue fixtures: staff of commune A, and services created through the catalogue's services."""

from __future__ import annotations

import pytest

from tenant_apps.catalog import services
from tenant_apps.catalog.forms import document_type_changes, product_changes, service_changes
from tenants.models import Role
from tests.catalog.examples import CANTINE
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def manager_a(commune_a):
    return MembershipFactory(commune=commune_a, role=Role.MANAGER).user


@pytest.fixture
def agent_a(commune_a):
    return MembershipFactory(commune=commune_a, role=Role.AGENT).user


@pytest.fixture
def manager_b(commune_b):
    return MembershipFactory(commune=commune_b, role=Role.MANAGER).user


@pytest.fixture
def parent(db):
    return UserFactory()


@pytest.fixture
def manager_client(client, manager_a):
    client.force_login(manager_a)
    return client


@pytest.fixture
def make_service(in_commune):
    """make_service(commune, **overrides) → a service saved (and published) in that commune."""

    def _make(commune, **data):
        with in_commune(commune):
            return services.save_service(
                commune=commune, changes=service_changes({**CANTINE, **data}, partial=False)
            )

    return _make


@pytest.fixture
def cantine_a(commune_a, make_service):
    return make_service(commune_a)


@pytest.fixture
def meal_a(cantine_a, commune_a, in_commune):
    with in_commune(commune_a):
        return services.save_product(
            commune=commune_a,
            service=cantine_a,
            changes=product_changes(
                {
                    "name": "Réservation repas cantine",
                    "price_cents": 380,
                    "variants": ["Standard", "Sans viande", "PAI"],
                },
                product=None,
            ),
        )


@pytest.fixture
def address_proof_a(cantine_a, commune_a, in_commune):
    with in_commune(commune_a):
        return services.save_document_type(
            commune=commune_a,
            service=cantine_a,
            changes=document_type_changes(
                {"label": "Justificatif de domicile"}, document_type=None
            ),
        )
