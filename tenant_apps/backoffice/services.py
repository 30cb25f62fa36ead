"""Staff use cases: a family's wallet within this commune's services, and audited reads."""

from __future__ import annotations

import datetime

from shared_apps.accounts.models import User
from shared_apps.audit.services import record
from shared_apps.common.errors import NotFound
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.services import record_counter_payment
from tenant_apps.backoffice.selectors import family_is_known
from tenant_apps.catalog.models import Service
from tenants.models import Commune
from tenants.services import assert_on_schema


def record_counter_credit(
    *,
    commune: Commune,
    staff_user: User,
    family_id: int,
    service_id: int,
    amount_cents: int,
    method: str,
    reference: str,
) -> LedgerTransaction:
    """Cash, cheque or transfer received here, credited to the family's pocket for the service."""
    assert_on_schema(commune)
    if not family_is_known(family_id):
        # A family that never asked this commune anything is not this commune's to see.
        raise NotFound("Famille introuvable pour cette commune.")
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise NotFound("Service introuvable.")
    return record_counter_payment(
        staff_user=staff_user,
        commune=commune,
        family_id=family_id,
        service_id=service.pk,
        service_name=service.name,
        amount_cents=amount_cents,
        method=method,
        reference=reference,
    )


def record_headcount_view(
    *,
    viewed_by: User,
    commune: Commune,
    day: datetime.date,
    children: int,
    until: datetime.date | None = None,
    product_id: int | None = None,
    output: str = "page",
) -> None:
    """A staff member saw the kitchen list from `day` to `until` (one day when None): children's
    names, classes and notes (allergies, PAI) are family data, so each view is audited, with
    the product shown (None: every product) and the `output` (page, print, pdf, xlsx, csv,
    api). The target is the day ("2026-12-07") or the period ("2026-12-07/2026-12-13")."""
    until = until or day
    single = until == day
    details: dict = {"children": children, "output": output}
    if product_id is not None:
        details["product_id"] = product_id
    record(
        actor=viewed_by,
        commune=commune,
        action="headcount.view",
        target_type="day" if single else "period",
        target_id=day.isoformat() if single else f"{day.isoformat()}/{until.isoformat()}",
        details=details,
    )


def record_forecast_view(
    *,
    viewed_by: User,
    commune: Commune,
    month: datetime.date,
    product_id: int | None = None,
    output: str = "page",
) -> None:
    """A staff member saw (or downloaded) the month forecast: counts only, no names, recorded
    all the same so that every reading of the kitchen lists leaves a trace."""
    details: dict = {"output": output}
    if product_id is not None:
        details["product_id"] = product_id
    record(
        actor=viewed_by,
        commune=commune,
        action="headcount.forecast.view",
        target_type="month",
        target_id=month.strftime("%Y-%m"),
        details=details,
    )


def record_family_view(
    *, viewed_by: User, commune: Commune, family_id: int, what: str = "file"
) -> None:
    """A staff member opened a family's file (`what="file"`, action "family.view") or its data
    through the staff API (`what="api"`): guardians, children, bookings, wallet are family data,
    so every opening is audited with the family's id (RGPD)."""
    assert_on_schema(commune)
    record(
        actor=viewed_by,
        commune=commune,
        action="family.view",
        target_type="family",
        target_id=family_id,
        family_id=family_id,
        details={"via": what},
    )


def record_family_search(*, searched_by: User, commune: Commune, query: str, found: int) -> None:
    """A staff member searched the families known here: the page lists names and e-mails, so
    the search is audited too ("family.search", the words and the number of families found)."""
    assert_on_schema(commune)
    record(
        actor=searched_by,
        commune=commune,
        action="family.search",
        target_type="search",
        details={"q": query, "found": found},
    )
