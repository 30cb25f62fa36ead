"""Catalogue use cases: every change of a service is published; bad input changes nothing."""

from __future__ import annotations

import pytest

from shared_apps.common.validation import InvalidInput
from shared_apps.directory.models import PublishedService
from shared_apps.directory.selectors import communes_with_services
from tenant_apps.catalog import services
from tenant_apps.catalog.forms import document_type_changes, product_changes, service_changes
from tenant_apps.catalog.models import DocumentType, Service
from tenant_apps.enrollments.models import AccessRequest, Document
from tests.catalog.examples import CANTINE

pytestmark = pytest.mark.django_db


def test_a_new_service_is_published_to_the_directory_of_its_commune(commune_a, make_service):
    service = make_service(commune_a)

    listing = PublishedService.objects.get(commune=commune_a, service_id=service.pk)
    assert (listing.kind, listing.name, listing.is_active) == ("cantine", "Cantine", True)


def test_changing_a_service_updates_its_listing_and_deactivating_hides_it(
    commune_a, cantine_a, in_commune
):
    with in_commune(commune_a):
        services.save_service(
            commune=commune_a,
            service=cantine_a,
            changes=service_changes({"name": "Restaurant scolaire"}, partial=True),
        )
    assert PublishedService.objects.get(commune=commune_a).name == "Restaurant scolaire"

    with in_commune(commune_a):
        services.save_service(
            commune=commune_a,
            service=cantine_a,
            changes=service_changes({"is_active": False}, partial=True),
        )
    commune = next(c for c in communes_with_services() if c.slug == "commune-a")
    assert commune.listed_services == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 121),
        ("kind", "piscine"),
        ("kind", None),
        ("payment_methods", []),
        ("payment_methods", ["card", "bitcoin"]),
        ("description", "x" * 4001),
    ],
)
def test_a_bad_service_is_refused_before_the_use_case(commune_a, in_commune, field, value):
    with pytest.raises(InvalidInput) as error:
        service_changes({**CANTINE, field: value}, partial=False)
    assert field in error.value.fields


def test_two_services_cannot_share_a_name(commune_a, cantine_a, in_commune):
    with in_commune(commune_a), pytest.raises(services.DuplicateName) as error:
        services.save_service(
            commune=commune_a,
            changes=service_changes({**CANTINE, "kind": "garderie"}, partial=False),
        )
    assert error.value.fields == {"name": ["Déjà utilisé."]}
    with in_commune(commune_a):
        assert Service.objects.count() == 1


def test_product_variants_are_replaced_in_the_order_given(commune_a, meal_a, in_commune):
    with in_commune(commune_a):
        assert [v.name for v in meal_a.variants.order_by("pk")] == [
            "Standard",
            "Sans viande",
            "PAI",
        ]
        services.save_product(
            commune=commune_a,
            service=meal_a.service,
            product=meal_a,
            changes=product_changes(
                {"variants": ["Standard", "  Végétarien ", "", "Standard"]}, product=meal_a
            ),
        )
        assert [v.name for v in meal_a.variants.order_by("pk")] == ["Standard", "Végétarien"]
        meal_a.refresh_from_db()
        assert meal_a.price_cents == 380  # untouched when not given


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"price_cents": -1}, "price_cents"),
        ({"price_cents": 100_001}, "price_cents"),
        ({"price_cents": "abc"}, "price_cents"),
        ({"price_cents": True}, "price_cents"),
        ({"price_cents": None}, "price_cents"),
        ({"name": " "}, "name"),
        ({"variants": ["x" * 81]}, "variants"),
        ({"variants": [f"Variante {n}" for n in range(21)]}, "variants"),
    ],
)
def test_a_bad_product_is_refused_before_the_use_case(data, field):
    with pytest.raises(InvalidInput) as error:
        product_changes({"name": "Repas", "price_cents": 380, **data}, product=None)
    assert field in error.value.fields


def test_a_product_of_another_service_is_not_found(commune_a, meal_a, make_service, in_commune):
    garderie = make_service(commune_a, name="Garderie", kind="garderie")
    with in_commune(commune_a), pytest.raises(services.NotFound):
        services.save_product(
            commune=commune_a,
            service=garderie,
            product=meal_a,
            changes=product_changes({"price_cents": 0}, product=meal_a),
        )


def test_a_document_code_comes_from_its_label_and_never_changes(
    commune_a, address_proof_a, in_commune
):
    assert address_proof_a.code == "justificatif-de-domicile"
    assert address_proof_a.required is True
    assert address_proof_a.accepted_formats == ["pdf", "jpeg", "png"]
    with in_commune(commune_a):
        services.save_document_type(
            commune=commune_a,
            service=address_proof_a.service,
            document_type=address_proof_a,
            changes=document_type_changes(
                {"label": "Preuve d’adresse", "required": False, "accepted_formats": ["pdf"]},
                document_type=address_proof_a,
            ),
        )
        address_proof_a.refresh_from_db()
    assert address_proof_a.code == "justificatif-de-domicile"
    assert (address_proof_a.label, address_proof_a.required) == ("Preuve d’adresse", False)
    assert address_proof_a.accepted_formats == ["pdf"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"label": ""}, "label"),
        ({"accepted_formats": []}, "accepted_formats"),
        ({"accepted_formats": ["docx"]}, "accepted_formats"),
        ({"help_text": "x" * 301}, "help_text"),
    ],
)
def test_a_bad_document_type_is_refused_before_the_use_case(data, field):
    with pytest.raises(InvalidInput) as error:
        document_type_changes({"label": "Assurance", **data}, document_type=None)
    assert field in error.value.fields


def test_a_document_type_families_have_sent_cannot_be_deleted(
    commune_a, address_proof_a, user, in_commune
):
    with in_commune(commune_a):
        access_request = AccessRequest.objects.create(
            service=address_proof_a.service, family_id=1, submitted_by_id=user.pk
        )
        Document.objects.create(
            access_request=access_request,
            document_type=address_proof_a,
            file="documents/exemple.pdf",
            original_name="facture.pdf",
            content_type="application/pdf",
            size=100,
            uploaded_by_id=user.pk,
        )
        with pytest.raises(services.DocumentTypeInUse, match="rendez-la facultative"):
            services.delete_document_type(commune=commune_a, document_type=address_proof_a)
        assert DocumentType.objects.filter(pk=address_proof_a.pk).exists()


def test_an_unused_document_type_is_deleted(commune_a, address_proof_a, in_commune):
    with in_commune(commune_a):
        services.delete_document_type(commune=commune_a, document_type=address_proof_a)
        assert not DocumentType.objects.exists()
