"""Reads of a family's wallet: total, pockets with their labels, history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from shared_apps.common.french import de
from shared_apps.directory.models import PublishedService
from shared_apps.wallet.models import POCKET_KINDS, Account, AccountKind, Posting, Wallet

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True)
class PocketView:
    scope: str  # "general" | "service"
    commune_slug: str | None
    commune_name: str | None
    service_id: int | None
    label: str
    balance_cents: int


GENERAL_LABEL = "Tous les services"


def wallet_of(family_id: int | None) -> Wallet | None:
    if family_id is None:
        return None
    return Wallet.objects.filter(family_id=family_id).first()


def pocket_labels(accounts: list[Account]) -> dict[tuple[int, int], str]:
    """The French label of each service pocket's (commune, service): "Cantine de Baneins"."""
    keys = {(a.commune_id, a.service_id) for a in accounts if a.service_id}
    if not keys:
        return {}
    listings = PublishedService.objects.select_related("commune").filter(
        commune_id__in={c for c, _ in keys}, service_id__in={s for _, s in keys}
    )
    return {(p.commune_id, p.service_id): p.label for p in listings}


def pockets_of(family_id: int | None) -> list[PocketView]:
    """The general pocket first, then each service's pocket: three queries whatever the count."""
    wallet = wallet_of(family_id)
    general = PocketView("general", None, None, None, GENERAL_LABEL, 0)
    if wallet is None:
        return [general]
    accounts = list(
        Account.objects.filter(
            wallet=wallet, kind__in=[AccountKind.GENERAL_POCKET, AccountKind.SERVICE_POCKET]
        )
        .select_related("commune")
        .order_by("commune__name", "service_id")
    )
    labels = pocket_labels(accounts)
    pockets = []
    for account in accounts:
        if account.kind == AccountKind.GENERAL_POCKET:
            general = PocketView("general", None, None, None, GENERAL_LABEL, account.balance_cents)
        else:
            commune = account.commune
            assert commune is not None  # a service pocket has its commune (database check)
            pockets.append(
                PocketView(
                    "service",
                    commune.slug,
                    commune.name,
                    account.service_id,
                    pocket_label(account, labels),
                    account.balance_cents,
                )
            )
    return [general, *pockets]


def pocket_label(account: Account, labels: dict[tuple[int, int], str]) -> str:
    """The pocket's name as the wallet page shows it ("Cantine de …" or "Tous les services")."""
    if not account.service_id:
        return GENERAL_LABEL
    commune = account.commune
    assert commune is not None and account.commune_id is not None  # a service pocket's
    return labels.get((account.commune_id, account.service_id), f"Service {de(commune.name)}")


def with_pocket_labels(postings: Iterable[Posting]) -> list[Posting]:
    """A page of history, each posting given `pocket_label`: one query for the whole page."""
    postings = list(postings)
    labels = pocket_labels([p.account for p in postings])
    for posting in postings:
        posting.pocket_label = pocket_label(posting.account, labels)  # type: ignore[attr-defined]
    return postings


def history_of(family_id: int | None) -> QuerySet[Posting]:
    """Movements of the family's pockets, newest first, with their origin."""
    wallet = wallet_of(family_id)
    if wallet is None:
        return Posting.objects.none()
    return (
        # Pockets only: a receivable (what is owed for direct-debit bookings) is not money held.
        Posting.objects.filter(account__wallet=wallet, account__kind__in=POCKET_KINDS)
        .select_related("transaction", "account", "account__commune")
        .order_by("-transaction__created_at", "-pk")
    )


def commune_postings(commune_id: int, start: datetime, end: datetime) -> QuerySet[Posting]:
    """Every posting of the ledger transactions tagged with this commune (its services' pockets,
    revenue and counter, card payments for them) created in [start, end), oldest first, each
    with its transaction and account: one query, for the accountant's exports."""
    return (
        Posting.objects.filter(
            transaction__commune_id=commune_id,
            transaction__created_at__gte=start,
            transaction__created_at__lt=end,
        )
        .select_related("transaction", "transaction__wallet", "account")
        .order_by("transaction__created_at", "transaction_id", "pk")
    )
