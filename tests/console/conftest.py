"""The console's tests: an operator, and who must be refused (a commune's staff, a parent)."""

from __future__ import annotations

import pytest
from django.test import Client

from tenants.models import Membership
from tests.factories import UserFactory


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator(db):
    user = UserFactory(email="operatrice@marelle.fr", first_name="Olga", is_operator=True)
    user.web = page_client(user)
    return user


@pytest.fixture
def manager_a(commune_a):
    user = UserFactory()
    Membership.objects.create(user=user, commune=commune_a, role="manager")
    user.web = page_client(user)
    return user
