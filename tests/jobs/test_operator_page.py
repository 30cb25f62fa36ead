"""/operateur/taches/: operators see recent runs and failures; staff, parents and anonymous
visitors are refused."""

from __future__ import annotations

import pytest
from django.utils import timezone

from shared_apps.jobs.models import JobRun, JobStatus
from tenants.models import Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/operateur/taches/"


@pytest.fixture
def runs(commune_a):
    JobRun.objects.create(
        task_id="1",
        task_name="tenant_apps.bookings.tasks.send_booking_reminders_task",
        commune=commune_a,
        schema_name=commune_a.schema_name,
        status=JobStatus.FAILED,
        attempts=5,
        started_at=timezone.now(),
        error_class="SMTPServerDisconnected",
        error_message="Connection unexpectedly closed",
    )
    JobRun.objects.create(
        task_id="2",
        task_name="shared_apps.payments.tasks.reconcile_with_provider_task",
        status=JobStatus.FAILED,
        started_at=timezone.now(),
        error_class="JobFindings",
        details=["paiement n° 4 (pi_x) : montant 900 c chez nous, 1000 c chez le prestataire"],
    )
    JobRun.objects.create(
        task_id="3",
        task_name="shared_apps.wallet.tasks.verify_ledger_task",
        status=JobStatus.SUCCEEDED,
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )


def test_an_operator_sees_failures_and_recent_runs(client, operator, runs):
    client.force_login(operator)
    page = client.get(URL)
    assert page.status_code == 200
    text = page.text
    assert "2 échecs ces dernières 24 heures" in text
    assert "Rappels avant la date limite (commune)" in text and "Commune A" in text
    assert "SMTPServerDisconnected" in text
    assert "montant 900 c chez nous, 1000 c chez le prestataire" in text
    assert "Vérification du grand livre" in text and "Réussie" in text


def test_anonymous_visitors_are_sent_to_log_in(client, runs):
    page = client.get(URL)
    assert page.status_code == 302 and "/compte/acces/" in page["Location"]


@pytest.mark.parametrize("who", ["parent", "manager_a", "django_staff"])
def test_staff_and_parents_are_refused(client, commune_a, runs, who):
    user = UserFactory(is_staff=(who == "django_staff"))
    if who == "manager_a":
        MembershipFactory(user=user, commune=commune_a, role=Role.MANAGER)
    client.force_login(user)
    page = client.get(URL)
    assert page.status_code == 403
    assert "SMTPServerDisconnected" not in page.text


def test_the_page_is_not_served_under_a_commune(client, operator, runs):
    client.force_login(operator)
    assert client.get("/c/commune-a/operateur/taches/").status_code == 404
