"""Every list a client can send has a bound: one element past it is a 400 in the error format
(or a French message on the page), and nothing changes."""

from __future__ import annotations

import pytest

from tenant_apps.bookings.models import Reservation
from tenants.models import Membership
from tests.factories import UserFactory
from tests.fixtures.clients import client_for
from tests.fixtures.files import pdf_file, png_file

pytestmark = pytest.mark.django_db

BASE = "/c/commune-a/api/v1"


@pytest.fixture
def agent(commune_a):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune_a, role="agent")
    return client_for(user)


def _fields(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


def _days(count: int) -> list[str]:
    import datetime

    first = datetime.date(2027, 1, 1)
    return [(first + datetime.timedelta(days=i)).isoformat() for i in range(count)]


def test_cart_items_child_ids_beyond_twenty_are_refused(frozen, parent, canteen):
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk] * 21, "dates": ["2026-12-07"]},
        format="json",
    )
    assert "child_ids" in _fields(response)
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_cart_items_dates_beyond_two_hundred_are_refused(frozen, parent, canteen):
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [parent.kids[0].pk], "dates": _days(201)},
        format="json",
    )
    assert "dates" in _fields(response)


def test_cart_items_child_id_past_a_database_id_is_a_400_not_a_500(frozen, parent, canteen):
    response = parent.api.post(
        f"{BASE}/cart/items",
        {"product_id": canteen.pk, "child_ids": [2**64], "dates": ["2026-12-07"]},
        format="json",
    )
    assert "child_ids" in _fields(response)


def test_calendar_page_dates_beyond_two_hundred_are_refused(frozen, client, parent, canteen):
    client.force_login(parent)
    response = client.post(
        f"/c/commune-a/reserver/{canteen.pk}/ajouter/",
        {"mode": "days", "children": [parent.kids[0].pk], "dates": _days(201)},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == ["200 jours au plus par demande."]
    assert parent.api.get(f"{BASE}/cart").json()["items"] == []


def test_staff_booking_dates_beyond_sixty_are_refused(
    frozen, agent, parent, canteen, commune_a, in_commune
):
    response = agent.post(
        f"{BASE}/staff/reservations",
        {
            "child_id": parent.kids[0].pk,
            "product_id": canteen.pk,
            "dates": _days(61),
            "consent_note": "Mme Martin, au téléphone",
        },
        format="json",
    )
    assert "dates" in _fields(response)
    with in_commune(commune_a):
        assert not Reservation.objects.exists()


def test_staff_booking_form_refuses_more_than_sixty_days():
    from tenant_apps.bookings.forms import OnBehalfForm

    form = OnBehalfForm(
        {"child_id": "1", "product_id": "1", "dates": ",".join(_days(61)), "consent_note": "x"},
        choices=([(1, "Enfant")], [(1, "Cantine")]),
    )
    assert not form.is_valid()
    assert form.errors["dates"] == ["60 jours au plus à la fois."]


@pytest.mark.parametrize("field", ["present", "absent"])
def test_attendance_lists_beyond_their_bound_are_refused(frozen, agent, canteen, field):
    from tenant_apps.bookings.parsing import MAX_ATTENDANCE_CHILDREN

    response = agent.post(
        f"{BASE}/staff/attendance",
        {
            "date": "2026-12-01",
            "product_id": canteen.pk,
            field: [1] * (MAX_ATTENDANCE_CHILDREN + 1),
        },
        format="json",
    )
    assert field in _fields(response)


@pytest.fixture
def asking_family(commune_a, in_commune):
    """A service asking for one document, and a family with one child (not yet enrolled)."""
    from shared_apps.families.services import add_child
    from tenant_apps.catalog.models import DocumentType, Service, ServiceKind

    with in_commune(commune_a):
        service = Service.objects.create(kind=ServiceKind.GARDERIE, name="Garderie")
        DocumentType.objects.create(service=service, code="domicile", label="Domicile")
    user = UserFactory()
    user.child = add_child(
        user=user,
        data={
            "last_name": "Martin",
            "first_name": "Léa",
            "birth_date": "2017-05-12",
            "relation": "mother",
        },
    )
    user.service = service
    user.api = client_for(user)
    return user


def test_access_request_children_beyond_twenty_are_refused(asking_family):
    response = asking_family.api.post(
        f"{BASE}/access-requests",
        {
            "service_id": asking_family.service.pk,
            "children": [asking_family.child.pk] * 21,
            "domicile": png_file(),
        },
        format="multipart",
    )
    assert "children" in _fields(response)


def test_access_request_with_a_document_the_service_does_not_ask_for_is_refused(
    asking_family, commune_a, in_commune
):
    from tenant_apps.enrollments.models import AccessRequest

    response = asking_family.api.post(
        f"{BASE}/access-requests",
        {
            "service_id": asking_family.service.pk,
            "children": [asking_family.child.pk],
            "domicile": png_file(),
            "autre": pdf_file(),
        },
        format="multipart",
    )
    assert _fields(response) == {"autre": ["Ce service ne demande pas cette pièce."]}
    with in_commune(commune_a):
        assert not AccessRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("payment_methods", ["wallet"] * 4), ("payment_methods", ["cash"])],
)
def test_service_payment_methods_longer_than_the_choices_are_refused(
    commune_a, in_commune, field, value
):
    from shared_apps.common.validation import InvalidInput
    from tenant_apps.catalog.forms import service_changes

    with pytest.raises(InvalidInput) as refused:
        service_changes({"name": "Garderie", "kind": "garderie", field: value}, partial=False)
    assert field in refused.value.fields


def test_document_formats_longer_than_the_choices_are_refused(commune_a, in_commune, canteen):
    from shared_apps.common.validation import InvalidInput
    from tenant_apps.catalog.forms import document_type_changes

    with pytest.raises(InvalidInput) as refused:
        document_type_changes(
            {"code": "domicile", "label": "Domicile", "accepted_formats": ["pdf"] * 4},
            document_type=None,
        )
    assert "accepted_formats" in refused.value.fields


def test_product_weekdays_longer_than_a_week_are_refused(commune_a, in_commune, canteen):
    from shared_apps.common.validation import InvalidInput
    from tenant_apps.catalog.forms import booking_rules_changes

    with pytest.raises(InvalidInput) as refused:
        booking_rules_changes({"weekdays": [0] * 8}, product=canteen)
    assert refused.value.fields["weekdays"] == ["Jour de la semaine inconnu."]
