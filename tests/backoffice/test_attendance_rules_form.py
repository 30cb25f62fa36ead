"""Managers set the attendance rules in the product's rules page, in the style of the others."""

from __future__ import annotations

import pytest
from django.test import Client

from tenant_apps.catalog.models import Product
from tenants.models import Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FORM = {
    "weekdays": ["0", "1", "3", "4"],
    "opening_period": "school",
    "booking_deadline_kind": "working_days_before",
    "booking_deadline_days": "2",
    "booking_deadline_time": "12:00",
    "cancel_deadline_kind": "working_days_before",
    "cancel_deadline_days": "2",
    "cancel_deadline_time": "12:00",
    "late_cancellation": "no_refund",
    "sibling_reduction_percent": "0",
}


def _client(commune, role):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune, role=role)
    client = Client()
    client.force_login(user)
    return client


def _url(product):
    return f"/c/commune-a/gestion/services/{product.service_id}/produits/{product.pk}/regles/"


def test_a_manager_sets_the_attendance_rules(canteen, commune_a, in_commune):
    manager = _client(commune_a, "manager")
    page = manager.get(_url(canteen)).content.decode()
    assert "<legend>Pointage</legend>" in page
    assert "Enfant présent sans réservation : non accepté" in page
    response = manager.post(
        _url(canteen),
        {
            **FORM,
            "unbooked_presence": "billed",
            "unbooked_price_cents": "5,50",
            "absence_refund_percent": "50",
            "sick_absence": "refund",
            "sick_refund_percent": "100",
        },
    )
    assert response.status_code == 302, response.content.decode()
    with in_commune(commune_a):
        product = Product.objects.get(pk=canteen.pk)
    assert (
        product.unbooked_presence,
        product.unbooked_price_cents,
        product.absence_refund_percent,
        product.sick_refund_percent,
    ) == ("billed", 550, 50, 100)
    summary = manager.get(_url(canteen)).content.decode()
    assert "Enfant présent sans réservation : accepté, facturé 5,50" in summary
    assert "Maladie avec certificat médical : remboursée à 100 %" in summary

    manager.post(
        _url(canteen),
        {
            **FORM,
            "unbooked_presence": "refused",
            "unbooked_price_cents": "",
            "absence_refund_percent": "",
            "sick_absence": "no_refund",
            "sick_refund_percent": "",
        },
    )
    with in_commune(commune_a):
        product = Product.objects.get(pk=canteen.pk)
    assert (product.unbooked_presence, product.absence_refund_percent) == ("refused", 0)
    assert product.sick_refund_percent is None and product.unbooked_price_cents is None


def test_wrong_attendance_rules_are_refused_in_french(canteen, commune_a, in_commune):
    manager = _client(commune_a, "manager")
    response = manager.post(
        _url(canteen),
        {
            **FORM,
            "unbooked_presence": "billed",
            "absence_refund_percent": "150",
            "sick_absence": "refund",
            "sick_refund_percent": "",
        },
    )
    assert response.status_code == 200
    assert "Indiquez la part remboursée, en %." in response.content.decode()
    response = manager.post(
        _url(canteen),
        {
            **FORM,
            "unbooked_presence": "billed",
            "absence_refund_percent": "150",
            "sick_absence": "refund",
            "sick_refund_percent": "100",
        },
    )
    assert "Indiquez un pourcentage entier entre 0 et 100." in response.content.decode()
    with in_commune(commune_a):
        assert Product.objects.get(pk=canteen.pk).unbooked_presence == "refused"


def test_agents_cannot_change_the_rules(canteen, commune_a):
    agent = _client(commune_a, "agent")
    assert agent.post(_url(canteen), {**FORM, "unbooked_presence": "billed"}).status_code == 403
