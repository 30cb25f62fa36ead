"""The security suite's set-up: one world for the package (tests/security/world.py), rolled back."""

from __future__ import annotations

import logging

import pytest
from django.db import connection, transaction

from tests.security.world import World, build_world


@pytest.fixture(scope="package")
def module_world(django_db_setup, django_db_blocker):
    """Built once for tests/security (the modules that use it share the xdist group "security",
    so one worker builds it once), in a transaction rolled back at the end; each test then runs
    in a savepoint of it (pytest-django's `db`), and each probe in a savepoint of its own."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield build_world()
        finally:
            connection.set_schema_to_public()
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def world(module_world, db) -> World:
    return module_world


@pytest.fixture
def quiet_request_log():
    """Hundreds of expected 4xx would each be logged as a warning: only errors are kept."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)
