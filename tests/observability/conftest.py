import pytest

from shared_apps.common import health


@pytest.fixture(autouse=True)
def _fresh_readiness():
    """Each test sees its own readiness checks run, not a result cached by another."""
    health.forget()
    yield
    health.forget()
