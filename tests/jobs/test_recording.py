"""Every scheduled job run is recorded: succeeded, retried then failed, with its commune, and a
failure is logged and mailed to the operators — with no personal data in what they read."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.core import mail
from django.utils import timezone

from shared_apps.jobs.models import JobRun, JobStatus
from shared_apps.jobs.recording import JobFindings, error_summary
from shared_apps.jobs.scheduling import enqueue_job, fan_out, job_task
from shared_apps.jobs.selectors import failed_runs, failures_per_commune

CALLS: list[str] = []


@job_task(tenant=True, name="tests.jobs.flaky_in_commune")
def flaky_in_commune(schema_name: str, fail_in: str) -> str:
    from django.db import connection

    CALLS.append(connection.schema_name)
    if schema_name == fail_in:
        raise ValueError(f"cannot reach parent.f@example.org in {schema_name}")
    return schema_name


@job_task(name="tests.jobs.finds_things")
def finds_things() -> None:
    CALLS.append("check")
    raise JobFindings("2 écarts", ["payment 12: 1000 chez nous, 900 chez Stripe"])


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()


@pytest.mark.django_db
def test_a_run_per_commune_is_recorded_and_a_failing_one_is_retried_then_failed(
    commune_a, commune_b, settings, caplog
):
    settings.JOBS_ALERT_EMAILS = ["ops@marelle.test"]
    with caplog.at_level(logging.WARNING, logger="marelle.jobs"):
        assert fan_out(flaky_in_commune, commune_b.schema_name) == 2

    ok = JobRun.objects.get(commune=commune_a)
    assert ok.status == JobStatus.SUCCEEDED and ok.attempts == 1 and ok.finished_at
    assert ok.schema_name == commune_a.schema_name
    failed = JobRun.objects.get(commune=commune_b)
    assert failed.status == JobStatus.FAILED
    assert failed.attempts == 5  # the first try and 4 retries (eager: no wait between them)
    expected_calls = [commune_a.schema_name] + [commune_b.schema_name] * 5
    assert expected_calls == CALLS
    assert failed.error_class == "ValueError"
    assert "example.org" not in failed.error_message and "<e-mail>" in failed.error_message
    # Never silent: an error log line and a mail to the operators, once.
    assert any(
        r.levelno == logging.ERROR and "flaky_in_commune" in r.message for r in caplog.records
    )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@marelle.test"]
    assert "flaky_in_commune" in mail.outbox[0].subject
    assert "example.org" not in mail.outbox[0].body

    since = timezone.now() - datetime.timedelta(hours=1)
    assert list(failed_runs(since)) == [failed]
    assert failures_per_commune(since) == {commune_b.pk: 1}


@pytest.mark.django_db
def test_findings_are_recorded_with_their_details_and_not_retried(settings):
    settings.JOBS_ALERT_EMAILS = []
    enqueue_job(finds_things)
    run = JobRun.objects.get(task_name="tests.jobs.finds_things")
    assert run.status == JobStatus.FAILED and run.attempts == 1 and CALLS == ["check"]
    assert run.details == ["payment 12: 1000 chez nous, 900 chez Stripe"]
    assert run.commune_id is None
    assert mail.outbox == []


def test_error_summary_keeps_the_first_line_without_addresses_or_ibans():
    exc = Exception(
        "duplicate key\nDETAIL:  Key (email)=(a@b.fr) exists. FR76 3000 6000 0112 3456 7890 189"
    )
    assert error_summary(exc) == ("Exception", "duplicate key")
    assert error_summary(ValueError("IBAN FR76 3000 6000 0112 3456 7890 189 refusé")) == (
        "ValueError",
        "IBAN <iban> refusé",
    )
