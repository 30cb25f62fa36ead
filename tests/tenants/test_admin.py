"""The platform administration (/admin/) works for the operator, page by page."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from shared_apps.accounts.api_tokens import issue as issue_api_token
from shared_apps.audit.services import record
from shared_apps.families.services import get_or_create_family
from shared_apps.jobs.models import JobRun
from shared_apps.payments.models import Payment, Purpose, Refund, WebhookEvent
from tenants.models import Membership, Role, StaffInvitation
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    """The platform operator, logged in through the admin's own login page."""
    user = get_user_model().objects.create_superuser("operatrice@marelle.fr", PASSWORD)
    response = client.post(
        reverse("admin:login"), {"username": user.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return user


@pytest.fixture
def one_of_each(operator, commune_a):
    """One row of every model registered in the admin, so each change page can be opened."""
    parent = UserFactory()
    family = get_or_create_family(parent)
    payment = Payment.objects.create(
        family=family, created_by=parent, purpose=Purpose.TOP_UP, amount_cents=2000
    )
    now = timezone.now()
    rows = [
        commune_a,
        Membership.objects.create(user=UserFactory(), commune=commune_a, role=Role.AGENT),
        StaffInvitation.objects.create(
            commune=commune_a,
            email="invitee@exemple.fr",
            role=Role.AGENT,
            token_hash="0" * 64,
            expires_at=timezone.now(),
        ),
        Group.objects.create(name="Comptables"),
        parent,
        record(actor=operator, action="test.admin", commune=commune_a),
        payment,
        WebhookEvent.objects.create(
            event_id="evt_admin", type="payment_intent.succeeded", payload={}, payment=payment
        ),
        Refund.objects.create(payment=payment, amount_cents=500, idempotency_key="refund-admin"),
        issue_api_token(parent, device="admin").token,
        AccessAttempt.objects.create(
            username="x@exemple.fr", ip_address="10.0.0.1", failures_since_start=1
        ),
        AccessLog.objects.create(username="x@exemple.fr", ip_address="10.0.0.1", attempt_time=now),
        AccessFailureLog.objects.create(
            username="x@exemple.fr", ip_address="10.0.0.1", attempt_time=now
        ),
        JobRun.objects.create(
            task_id="admin-run",
            task_name="shared_apps.wallet.tasks.verify_ledger_task",
            commune=commune_a,
            schema_name=commune_a.schema_name,
            status="failed",
            started_at=now,
            error_class="JobFindings",
        ),
    ]
    return {type(row): row for row in rows}


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_the_admin_home_lists_the_platforms_models(client, operator):
    response = client.get("/admin/")

    assert response.status_code == 200
    assert "Marelle — administration de la plateforme" in response.content.decode()
    assert reverse("admin:tenants_commune_changelist") in response.content.decode()


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label_lower)
def test_every_admin_page_of_every_registered_model_opens(client, operator, one_of_each, model):
    model_admin = admin.site._registry[model]
    row = one_of_each.get(model)
    assert row is not None, f"add a {model._meta.label} row to one_of_each"

    assert client.get(_admin_url(model, "changelist")).status_code == 200
    assert client.get(_admin_url(model, "change", row.pk)).status_code == 200
    # Read-only models (communes are opened with create_commune; payments, audit, login
    # attempts are written by the code) answer 403 to "add"; the others show the form.
    request = type("Request", (), {"user": operator})()
    expected = 200 if model_admin.has_add_permission(request) else 403
    assert client.get(_admin_url(model, "add")).status_code == expected
