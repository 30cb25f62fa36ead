"""A job through a real Celery worker and Redis — only where REDIS_URL is set (CI has Redis;
`make test` needs no server and skips this).

The worker is a subprocess of this interpreter on the test database, consuming a queue of this
test only; the job is sent over Redis and its effect read back from the database."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from config.celery import app
from shared_apps.jobs.models import JobRun, JobStatus
from shared_apps.jobs.tasks import prune_job_runs_task
from tenant_apps.bookings.models import Cart
from tenant_apps.bookings.tasks import delete_stale_carts_task
from tests.factories import UserFactory

YEAR = datetime.timedelta(days=365)

REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: no real broker here"),
    pytest.mark.django_db(transaction=True),
    # With the other tests that commit and hold extra connections (README: one xdist worker).
    pytest.mark.xdist_group("real_connections"),
]


def _database_url() -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    host = quote(host, safe="") if host.startswith("/") else host
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{db['USER']}{password}@{host}{port}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """A worker (solo pool) on a queue of its own; stopped at the end. Yields the queue name."""
    queue = f"marelle-test-{uuid.uuid4().hex[:8]}"
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "MARELLE_ENV": "test",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo"]
    command += [
        "-Q",
        queue,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "info",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        yield queue, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        print((tmp_path / "worker.log").read_text()[-3000:])


def test_a_job_runs_in_a_real_worker_through_redis(commune_a, commune_b, in_commune, worker):
    queue, process = worker
    long_ago = timezone.now() - datetime.timedelta(hours=7)
    for commune in (commune_a, commune_b):
        with in_commune(commune):
            cart = Cart.objects.create(
                family_id=UserFactory().pk, expires_at=long_ago
            )  # a family id is not checked across schemas
            Cart.objects.filter(pk=cart.pk).update(updated_at=long_ago)

    old = JobRun.objects.create(
        task_id="old", task_name="x", status=JobStatus.SUCCEEDED, started_at=long_ago - YEAR
    )

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # these go over Redis to the worker
    try:
        result = delete_stale_carts_task.apply_async(args=[commune_a.schema_name], queue=queue)
        pruning = prune_job_runs_task.apply_async(queue=queue)
    finally:
        app.conf.task_always_eager = eager

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with in_commune(commune_a):
            if not Cart.objects.exists():
                break
        time.sleep(0.2)
    assert process.poll() is None, "the worker stopped"
    with in_commune(commune_a):
        assert not Cart.objects.exists()  # deleted by the worker, in A's schema
    with in_commune(commune_b):
        assert Cart.objects.count() == 1  # and B's left alone
    # A frequent sub-task records only a retry or a failure; the pruning job records its run.
    assert not JobRun.objects.filter(task_id=result.id).exists()
    while (
        time.monotonic() < deadline
        and not JobRun.objects.filter(task_id=pruning.id, status=JobStatus.SUCCEEDED).exists()
    ):
        time.sleep(0.2)
    run = JobRun.objects.get(task_id=pruning.id)
    assert run.status == JobStatus.SUCCEEDED and run.finished_at and run.commune_id is None
    assert not JobRun.objects.filter(pk=old.pk).exists()
