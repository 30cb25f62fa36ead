"""Staff use cases: a family's wallet within this commune's services, and audited reads."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from shared_apps.accounts.models import User
from shared_apps.audit.services import record
from shared_apps.common.errors import Conflict, DomainError, NotFound
from shared_apps.common.money import format_euros
from shared_apps.common.validation import InvalidInput
from shared_apps.wallet.errors import DuplicateCounterPayment
from shared_apps.wallet.models import LedgerTransaction
from shared_apps.wallet.services import counter_source_key, record_counter_payment
from tenant_apps.backoffice.models import DayClosing, PaymentMethod, Receipt, ReceiptCounter
from tenant_apps.backoffice.selectors import closing_for_agent, family_is_known, family_names
from tenant_apps.catalog.models import Service
from tenants.models import Commune, Membership
from tenants.services import assert_on_schema


class DayClosed(Conflict):
    code = "day_closed"
    message = "Cette journée est clôturée : plus aucun versement ne peut y être enregistré."


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403
    message = "Action réservée à un responsable de la commune."


class AlreadyClosed(Conflict):
    code = "already_closed"
    message = "Cette journée est déjà clôturée."


@dataclass(frozen=True)
class CounterReceipt:
    """A counter payment's receipt, and whether this call wrote it (False: a retry)."""

    receipt: Receipt
    created: bool


def _locked_counter(year: int) -> ReceiptCounter:
    """The year's receipt counter, locked until the end of the caller's transaction. Counter
    payments and day closings of the commune queue here, so a number is never given twice and
    a closing sees every payment of its day."""
    ReceiptCounter.objects.bulk_create([ReceiptCounter(year=year)], ignore_conflicts=True)
    return ReceiptCounter.objects.select_for_update().get(year=year)


def _name_of(user: User) -> str:
    return user.get_full_name() or user.email


def record_counter_credit(
    *,
    commune: Commune,
    staff_user: User,
    family_id: int,
    service_id: int,
    amount_cents: int,
    method: str,
    reference: str,
) -> CounterReceipt:
    """Cash, cheque or transfer received here, credited to the family's pocket for the service,
    with its numbered receipt (R-<year>-<6 digits>, per commune and year, no gap, no duplicate).

    The ledger movement and the receipt are written in one transaction, under the lock of the
    year's receipt counter. A retry of the same payment (same family, method and reference, same
    amount and service) writes nothing and returns the first receipt (`created` False).
    Errors: NotFound (family not known here, unknown service), InvalidInput (bad method,
    reference or amount), DuplicateCounterPayment (the reference was used for another amount or
    service), DayClosed (the agent's takings of today, or the whole régie's, are closed),
    CommuneInactive.
    """
    assert_on_schema(commune)
    if not family_is_known(family_id):
        # A family that never asked this commune anything is not this commune's to see.
        raise NotFound("Famille introuvable pour cette commune.")
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise NotFound("Service introuvable.")
    now = timezone.now()
    today = timezone.localdate(now)
    key = counter_source_key(
        commune=commune, family_id=family_id, method=method, reference=reference or ""
    )
    with transaction.atomic():
        counter = _locked_counter(today.year)
        earlier = LedgerTransaction.objects.filter(source_key=key).first()
        if earlier is not None:
            receipt = Receipt.objects.filter(ledger_transaction_id=earlier.pk).first()
            if receipt is None:  # recorded before receipts existed
                raise DuplicateCounterPayment()
            if (receipt.amount_cents, receipt.service_id) != (amount_cents, service.pk):
                raise DuplicateCounterPayment(
                    f"Cette référence est déjà enregistrée pour cette famille, pour "
                    f"{format_euros(receipt.amount_cents)} ({receipt.service_name}) : "
                    f"reçu n° {receipt.number}."
                )
            return CounterReceipt(receipt, created=False)
        closing = closing_for_agent(today, staff_user.pk)
        if closing is not None:
            whose = "de la régie" if closing.agent_id is None else "de votre caisse"
            raise DayClosed(
                f"La journée du {today:%d/%m/%Y} {whose} est clôturée : aucun versement ne "
                "peut plus y être enregistré. Rien n’a été encaissé."
            )
        ledger_transaction = record_counter_payment(
            staff_user=staff_user,
            commune=commune,
            family_id=family_id,
            service_id=service.pk,
            service_name=service.name,
            amount_cents=amount_cents,
            method=method,
            reference=reference,
        )
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        receipt = Receipt.objects.create(
            number=f"R-{today.year}-{counter.last_number:06d}",
            year=today.year,
            sequence=counter.last_number,
            day=today,
            created_at=ledger_transaction.created_at,
            ledger_transaction_id=ledger_transaction.pk,
            family_id=family_id,
            family_name=family_names([family_id]).get(family_id, f"Famille n° {family_id}"),
            service=service,
            service_name=service.name,
            amount_cents=amount_cents,
            method=method,
            reference=reference.strip(),
            agent_id=staff_user.pk,
            agent_name=_name_of(staff_user),
        )
    return CounterReceipt(receipt, created=True)


def close_day(
    *,
    commune: Commune,
    closed_by: User,
    is_manager: bool,
    day: datetime.date,
    agent_id: int | None,
) -> DayClosing:
    """Close a day's takings and freeze their totals per method; audited.

    Rule (the régie's): an agent closes their own takings (`agent_id` = themselves); a manager
    closes any agent's, or the whole régie's (`agent_id` None), after which nobody can take a
    payment that day. Payments are dated when they are taken, so only today or a past day can
    be closed. Errors: NotAllowed (an agent closing someone else's or everyone's takings),
    InvalidInput (a day to come), NotFound (an agent who is not staff here and took nothing
    that day), AlreadyClosed.
    """
    assert_on_schema(commune)
    if not is_manager and agent_id != closed_by.pk:
        raise NotAllowed(
            "Un agent clôture sa propre caisse ; la clôture d’une autre caisse ou de toute la "
            "régie revient à un responsable."
        )
    if day > timezone.localdate():
        raise InvalidInput("On ne clôture pas une journée à venir.")
    agent = None
    if agent_id is not None:
        agent = User.objects.filter(pk=agent_id).first()
        known = agent is not None and (
            Membership.objects.filter(user_id=agent_id, commune=commune).exists()
            or Receipt.objects.filter(day=day, agent_id=agent_id).exists()
        )
        if not known:
            raise NotFound("Agent introuvable dans cette commune.")
    with transaction.atomic():
        _locked_counter(day.year)  # no payment of the commune slips in while we count
        existing = DayClosing.objects.filter(day=day, agent__isnull=True).first()
        if existing is None and agent_id is not None:
            existing = DayClosing.objects.filter(day=day, agent_id=agent_id).first()
        if existing is not None:
            raise AlreadyClosed(
                f"La journée du {day:%d/%m/%Y} est déjà clôturée "
                f"({existing.agent_name or 'toute la régie'}, par {existing.closed_by_name})."
            )
        receipts = Receipt.objects.filter(day=day)
        if agent_id is not None:
            receipts = receipts.filter(agent_id=agent_id)
        totals = {method: 0 for method in PaymentMethod.values}
        count = 0
        for method, cents, number in (
            receipts.values("method")
            .annotate(cents=Sum("amount_cents"), number=Count("pk"))
            .values_list("method", "cents", "number")
        ):
            totals[method] = cents
            count += number
        closing = DayClosing.objects.create(
            day=day,
            agent_id=agent_id,
            agent_name=_name_of(agent) if agent else "",
            closed_by_id=closed_by.pk,
            closed_by_name=_name_of(closed_by),
            payments_count=count,
            total_cents=sum(totals.values()),
            totals=totals,
        )
        record(
            actor=closed_by,
            commune=commune,
            action="cash.day_closed",
            target_type="day",
            target_id=day.isoformat(),
            details={
                "agent_id": agent_id,
                "payments": count,
                "total_cents": closing.total_cents,
                "totals": totals,
            },
        )
    return closing


def record_cash_view(
    *, viewed_by: User, commune: Commune, what: str, target: str, details: dict | None = None
) -> None:
    """A staff member saw the régie's journal, a receipt or the accountant's exports (families'
    names and payments): audited like every reading of family data by staff."""
    record(
        actor=viewed_by,
        commune=commune,
        action=f"cash.{what}_view",
        target_type=what,
        target_id=target,
        details=details,
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
