"""The Celery app. Without REDIS_URL tasks run eagerly (tests, demo)."""

from __future__ import annotations

import os

from celery import Celery, Task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("marelle")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class TenantTask(Task):
    """A task that runs in one commune's schema, named explicitly by its first argument.

    The schema is set on entry and the caller's restored on exit, even on failure: a worker goes
    back to the public schema, and a task run eagerly (demo, tests) inside a request hands the
    request its commune back.
    """

    abstract = True

    def __call__(self, schema_name: str, *args, **kwargs):
        from django.db import connection
        from django_tenants.utils import tenant_context

        from tenants.models import Commune

        previous = connection.tenant
        try:
            commune = Commune.objects.get(schema_name=schema_name)  # never "whatever was set"
            with tenant_context(commune):
                return super().__call__(schema_name, *args, **kwargs)
        finally:
            connection.set_tenant(previous)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue a task once the current transaction commits, never for a rolled-back change."""
    from django.db import transaction

    transaction.on_commit(lambda: task.delay(*args, **kwargs))
