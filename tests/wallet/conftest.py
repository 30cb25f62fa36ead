import pytest

from shared_apps.families.services import get_or_create_family
from tests.factories import UserFactory


@pytest.fixture
def family(db):
    """A parent's family (id) with an empty wallet."""
    parent = UserFactory()
    family = get_or_create_family(parent)
    family.parent = parent
    return family
