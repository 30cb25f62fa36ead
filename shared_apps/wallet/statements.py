"""A family's statement (relevé) for a period and its yearly childcare attestation, as read for
the PDFs of "Mon porte-monnaie". The wallet and the payments are public rows; what each commune
holds (reservations, invoices, credit notes) is read in its schema through settings hooks
(FAMILY_STATEMENT_HOOK, FAMILY_CHILDCARE_HOOK): public code never imports tenant apps.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone
from django.utils.module_loading import import_string

from shared_apps.common.validation import InvalidInput
from shared_apps.families.models import Child
from shared_apps.payments.models import Payment, PaymentStatus
from shared_apps.wallet.models import POCKET_KINDS, Posting
from shared_apps.wallet.selectors import pockets_of, wallet_of, with_pocket_labels

MAX_STATEMENT_DAYS = 366
ATTESTATION_RULE = (
    "Article 200 quater B du code général des impôts : crédit d’impôt pour frais de garde des "
    "enfants de moins de 6 ans (âgés de moins de six ans au 1er janvier de l’année d’imposition)"
)


def _bounds(start: datetime.date, end: datetime.date) -> tuple[datetime.datetime, ...]:
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def check_period(start: datetime.date, end: datetime.date) -> None:
    """InvalidInput unless start ≤ end and the period is at most a year (366 days)."""
    if end < start:
        raise InvalidInput(fields={"au": ["La fin de la période précède son début."]})
    if (end - start).days >= MAX_STATEMENT_DAYS:
        raise InvalidInput(fields={"au": ["Une période d’un an au plus."]})


def statement(family_id: int | None, start: datetime.date, end: datetime.date) -> dict:
    """Everything the family's money did in [start, end] (Europe/Paris days, inclusive):
    - wallet: each movement of its pockets (top-ups, payments, refunds), with the balances at
      the start and the end of the period (cents);
    - payments: card top-ups, card orders, invoice debits and card payments that succeeded;
    - per commune of the family: reservations dated in the period (every payment method),
      invoices and credit notes issued in it.
    A family-less user gets an empty statement. Errors: InvalidInput (see check_period)."""
    check_period(start, end)
    since, until = _bounds(start, end)
    postings: list = []
    opening = closing = 0
    payments: list = []
    communes: list = []
    wallet = wallet_of(family_id)
    if family_id is not None and wallet is not None:
        mine = Posting.objects.filter(account__wallet=wallet, account__kind__in=POCKET_KINDS)
        postings = with_pocket_labels(
            mine.filter(transaction__created_at__gte=since, transaction__created_at__lt=until)
            .select_related("transaction", "account", "account__commune")
            .order_by("transaction__created_at", "pk")
        )
        after = (
            mine.filter(transaction__created_at__gte=until).aggregate(s=Sum("amount_cents"))["s"]
            or 0
        )
        closing = sum(p.balance_cents for p in pockets_of(family_id)) - after
        opening = closing - sum(p.amount_cents for p in postings)
    if family_id is not None:
        payments = list(
            Payment.objects.filter(
                family_id=family_id,
                status=PaymentStatus.SUCCEEDED,
                succeeded_at__gte=since,
                succeeded_at__lt=until,
            )
            .select_related("commune")
            .order_by("succeeded_at", "pk")
        )
        communes = import_string(settings.FAMILY_STATEMENT_HOOK)(family_id, start, end)
    return {
        "start": start,
        "end": end,
        "postings": postings,
        "opening_cents": opening,
        "closing_cents": closing,
        "in_cents": sum(p.amount_cents for p in postings if p.amount_cents > 0),
        "out_cents": -sum(p.amount_cents for p in postings if p.amount_cents < 0),
        "payments": payments,
        "payments_cents": sum(p.amount_cents for p in payments),
        "communes": communes,
    }


def eligible_children(family_id: int | None, year: int) -> list[Child]:
    """The family's children under 6 on 1 January of `year` (born after 1 January of year−6,
    including those born during the year), the rule of CGI art. 200 quater B."""
    if family_id is None:
        return []
    return list(
        Child.objects.filter(
            family_id=family_id,
            birth_date__gt=datetime.date(year - 6, 1, 1),
            birth_date__lte=datetime.date(year, 12, 31),
        ).order_by("birth_date", "first_name")
    )


def childcare_attestation(family_id: int | None, year: int) -> dict:
    """The yearly attestation: per commune, each eligible child's childcare days paid in `year`
    (garderie, périscolaire, centre de loisirs; not the canteen's meals) and their amount in
    cents, with totals per child and per commune. A year not over yet is allowed (the PDF then
    says "à ce jour"). Errors: InvalidInput (year outside 2000–2100)."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(fields={"annee": ["Année entre 2000 et 2100."]})
    children = eligible_children(family_id, year)
    rows = (
        import_string(settings.FAMILY_CHILDCARE_HOOK)(family_id, year, [c.pk for c in children])
        if family_id is not None and children
        else []
    )
    names = {c.pk: f"{c.first_name} {c.last_name}" for c in children}
    by_commune: dict[str, list] = defaultdict(list)
    for row in rows:
        by_commune[row.commune_name].append(
            (names[row.child_id], row.service_name, row.days, row.amount_cents)
        )
    per_child: dict[str, int] = defaultdict(int)
    for row in rows:
        per_child[names[row.child_id]] += row.amount_cents
    return {
        "year": year,
        "children": children,
        "communes": [
            (name, lines, sum(line[3] for line in lines))
            for name, lines in sorted(by_commune.items())
        ],
        "per_child": sorted(per_child.items()),
        "total_cents": sum(r.amount_cents for r in rows),
        "rule": ATTESTATION_RULE,
        "in_progress": year >= timezone.localdate().year,
    }
