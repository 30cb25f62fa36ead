"""Reconciliation with the payment provider: its payments and refunds of the last days against
our Payment and Refund rows, both ways. It reads and reports; it never changes money."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from shared_apps.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from shared_apps.payments.providers import PaymentProvider, ProviderRecord, get_provider

# The provider is asked from a little earlier than our rows, so a row made just after its
# provider object, at the window's edge, still finds it.
EDGE = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Difference:
    """One disagreement; `line` is what operators read (ids, states, cents — no names)."""

    kind: str  # "missing_here" | "missing_at_provider" | "amount" | "status"
    what: str  # "payment" | "refund"
    provider_ref: str
    our_id: int | None
    ours: str = ""
    theirs: str = ""

    @property
    def line(self) -> str:
        label = {"payment": "paiement", "refund": "remboursement"}[self.what]
        ours = f"{label} n° {self.our_id} ({self.provider_ref})" if self.our_id else label
        if self.kind == "missing_here":
            return (
                f"{label} {self.provider_ref} chez le prestataire ({self.theirs}), absent chez nous"
            )
        if self.kind == "missing_at_provider":
            return f"{ours} ({self.ours}) introuvable chez le prestataire"
        what = "montant" if self.kind == "amount" else "état"
        return f"{ours} : {what} {self.ours} chez nous, {self.theirs} chez le prestataire"


def _compare(
    what: str,
    theirs: dict[str, ProviderRecord],
    ours: dict[str, Payment | Refund],
    elsewhere: dict[str, Payment | Refund],
    *,
    since: datetime.datetime,
    settled_before: datetime.datetime,
) -> list[Difference]:
    succeeded = PaymentStatus.SUCCEEDED if what == "payment" else RefundStatus.SUCCEEDED
    found: list[Difference] = []
    for ref, record in sorted(theirs.items()):
        if record.created >= settled_before:
            continue  # too recent: its notification may still be on its way
        row = ours.get(ref) or elsewhere.get(ref)
        if row is None:
            if record.created >= since:
                theirs_text = f"{record.amount_cents} c, {record.status}"
                found.append(Difference("missing_here", what, ref, None, theirs=theirs_text))
            continue
        if row.amount_cents != record.amount_cents:
            found.append(
                Difference(
                    "amount", what, ref, row.pk, f"{row.amount_cents} c", f"{record.amount_cents} c"
                )
            )
        if (row.status == succeeded) != (record.status == "succeeded"):
            found.append(Difference("status", what, ref, row.pk, row.status, record.status))
    for ref, row in sorted(ours.items()):
        if ref not in theirs:
            ours_text = f"{row.amount_cents} c, {row.status}"
            found.append(Difference("missing_at_provider", what, ref, row.pk, ours=ours_text))
    return found


def reconcile_with_provider(
    *,
    since: datetime.datetime,
    settle: datetime.timedelta = datetime.timedelta(minutes=15),
    provider: PaymentProvider | None = None,
) -> list[Difference]:
    """Differences between the provider's payments and refunds created since `since` (aware)
    and ours, both ways: at the provider and not with us, with us and not at the provider, a
    different amount (cents) or one side succeeded and not the other. Objects younger than
    `settle` are left for the next run. Raises ProviderError when the provider cannot be read.
    Writes nothing."""
    provider = provider or get_provider()
    settled_before = timezone.now() - settle
    differences: list[Difference] = []
    for what, model, listing in (
        ("payment", Payment, provider.recent_payments),
        ("refund", Refund, provider.recent_refunds),
    ):
        theirs = {record.provider_ref: record for record in listing(since=since - EDGE)}
        rows = model.objects.filter(provider_ref__isnull=False, created_at__lt=settled_before)
        if model is Payment:
            rows = rows.filter(provider=provider.name)
        else:
            rows = rows.filter(payment__provider=provider.name)
        ours = {row.provider_ref: row for row in rows.filter(created_at__gte=since)}
        elsewhere = {
            row.provider_ref: row
            for row in model.objects.filter(provider_ref__in=[r for r in theirs if r not in ours])
        }
        differences += _compare(
            what, theirs, ours, elsewhere, since=since, settled_before=settled_before
        )
    return differences
