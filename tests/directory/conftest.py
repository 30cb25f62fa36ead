from __future__ import annotations

import pytest

from tenant_apps.catalog import services
from tenant_apps.catalog.forms import service_changes


@pytest.fixture
def publish(in_commune):
    """publish(commune, name, kind="cantine", **data) → a service saved in that commune."""

    def _publish(commune, name: str, kind: str = "cantine", **data):
        with in_commune(commune):
            return services.save_service(
                commune=commune,
                changes=service_changes(
                    {"kind": kind, "name": name, "payment_methods": ["card"], **data},
                    partial=False,
                ),
            )

    return _publish
