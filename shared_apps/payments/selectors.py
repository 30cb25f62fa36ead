"""Reads for the top-up pages and API: a family's own payments, and the pockets it may top up."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from shared_apps.accounts.models import User
from shared_apps.common.french import de
from shared_apps.common.validation import parse_id
from shared_apps.directory.models import PublishedService
from shared_apps.directory.selectors import service_label
from shared_apps.families.selectors import family_id_of
from shared_apps.payments.models import Payment, Purpose, Scope
from shared_apps.wallet.selectors import GENERAL_LABEL


def top_up_of(user: User, payment_id: int) -> Payment | None:
    """One of the user's family's top-ups, or None — another family's is simply not found."""
    family_id = family_id_of(user)
    if family_id is None:
        return None
    if parse_id(payment_id) is None:
        return None
    return (
        Payment.objects.select_related("commune")
        .filter(pk=payment_id, family_id=family_id, purpose=Purpose.TOP_UP)
        .first()
    )


def pocket_label(payment: Payment) -> str:
    if payment.scope == Scope.GENERAL:
        return GENERAL_LABEL
    commune = payment.commune
    assert commune is not None and payment.service_id is not None  # a service's top-up
    assert payment.commune_id is not None
    listing = PublishedService.objects.filter(
        commune_id=payment.commune_id, service_id=payment.service_id
    ).first()
    if listing is None:
        return f"Service {de(commune.name)}"
    return service_label(listing.name, commune.name)


@dataclass(frozen=True)
class TopUpTarget:
    """A pocket offered on the top-up page; `value`: "general" or "<commune_slug>:<service_id>"."""

    value: str
    label: str
    commune_name: str | None = None


def top_up_value(commune_slug: str, service_id: int) -> str:
    return f"{commune_slug}:{service_id}"


def top_up_targets() -> list[TopUpTarget]:
    """The general pocket (when enabled), then every active published service, by commune."""
    targets = []
    if settings.WALLET_GENERAL_CREDIT_ENABLED:
        targets.append(TopUpTarget("general", GENERAL_LABEL))
    listings = (
        PublishedService.objects.filter(is_active=True, commune__is_active=True)
        .select_related("commune")
        .order_by("commune__name", "name", "pk")
    )
    for listing in listings:
        targets.append(
            TopUpTarget(
                top_up_value(listing.commune.slug, listing.service_id),
                service_label(listing.name, listing.commune.name),
                listing.commune.name,
            )
        )
    return targets
