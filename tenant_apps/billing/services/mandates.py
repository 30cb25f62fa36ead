"""Use cases of SEPA Direct Debit mandates: set one up (or replace it), record what the
provider says, revoke it. Why per commune: see billing.models.

The state of a mandate only ever comes from the provider, read server-side
(`payments.services.sepa_setup_state`) when the parent comes back from the page and when a
signed `setup_intent.*` notification arrives: the browser's word is never taken. States move
forward only (models.MANDATE_MOVES).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from shared_apps.common.validation import parse_id
from shared_apps.families.selectors import family_id_of
from shared_apps.families.services import get_or_create_family
from shared_apps.payments.services import (
    direct_debit_setup_available,
    sepa_setup_state,
    start_sepa_setup,
)
from tenant_apps.billing.errors import (
    MandateNotFound,
    MandateNotRevocable,
    MandateSetupUnavailable,
)
from tenant_apps.billing.models import Mandate, MandateStatus
from tenants.models import Commune
from tenants.services import assert_on_schema, lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from shared_apps.payments.providers import Notification

# A set-up started but not confirmed is offered again for this long (no pile of set-ups).
REUSE_PENDING_FOR = datetime.timedelta(hours=12)


def start_mandate(*, commune: Commune, user: User, now: datetime.datetime | None = None) -> Mandate:
    """Start setting up (or replacing) the family's mandate with this commune.

    Output: a pending Mandate carrying the provider's client secret, for the IBAN form. The
    family's active mandate, if any, stays active until the new one is confirmed (then it is
    replaced). A set-up started in the last 12 hours and not confirmed is reused.
    Errors: MandateSetupUnavailable (409: no provider configured); PaymentProviderUnavailable
    (503: the provider cannot be reached — the set-up is marked failed); CommuneInactive.
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    if not direct_debit_setup_available():
        raise MandateSetupUnavailable()
    family = get_or_create_family(user)
    recent = (
        Mandate.objects.filter(
            family_id=family.pk,
            status=MandateStatus.PENDING,
            created_at__gte=now - REUSE_PENDING_FOR,
        )
        .exclude(client_secret="")
        .first()
    )
    if recent is not None:
        return recent
    with transaction.atomic():
        lock_active_commune(commune)
        mandate = Mandate.objects.create(family_id=family.pk, created_by=user)
    try:
        provider, started = start_sepa_setup(
            metadata={
                "schema": commune.schema_name,
                "mandate_id": str(mandate.pk),
                "family_id": str(family.pk),
                "purpose": "sepa_mandate",
            },
            idempotency_key=f"marelle-mandate-{commune.schema_name}-{mandate.pk}",
            email=user.email,
        )
    except Exception:
        Mandate.objects.filter(pk=mandate.pk).update(status=MandateStatus.FAILED, ended_at=now)
        raise
    mandate.provider = provider
    mandate.setup_ref = started.provider_ref
    mandate.client_secret = started.client_secret
    mandate.customer_ref = started.customer_ref
    mandate.save(update_fields=["provider", "setup_ref", "client_secret", "customer_ref"])
    return mandate


def own_mandate(*, user: User, mandate_id: object) -> Mandate:
    """The family's mandate with this id; MandateNotFound for any other (another family's,
    another commune's — not in this schema — or not an id)."""
    family_id = family_id_of(user)
    if family_id is None:
        raise MandateNotFound()
    mandate = Mandate.objects.filter(family_id=family_id, pk=parse_id(mandate_id)).first()  # type: ignore[misc]
    if mandate is None:
        raise MandateNotFound()
    return mandate


def sync_mandate(
    *, commune: Commune, mandate_id: int, now: datetime.datetime | None = None
) -> Mandate:
    """Record the provider's state of a pending mandate (read server-side).

    Succeeded → active, with the IBAN's last four digits and the bank's mandate reference; the
    family's previous active mandate is replaced in the same transaction. Failed/canceled →
    failed. Anything else (not confirmed yet) leaves it pending. A mandate that is no longer
    pending does not move (a revoked set-up confirmed later stays revoked).
    Errors: PaymentProviderUnavailable (503) when the provider cannot be asked.
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    mandate = Mandate.objects.get(pk=mandate_id)
    if mandate.status != MandateStatus.PENDING or not mandate.setup_ref:
        return mandate
    state = sepa_setup_state(setup_ref=mandate.setup_ref, provider_name=mandate.provider)
    if state.metadata.get("schema") not in (None, commune.schema_name):
        return mandate  # not this commune's set-up: nothing to record here
    with transaction.atomic():
        # All the family's mandates, in id order: two confirmations of one family serialise.
        locked = {
            m.pk: m
            for m in Mandate.objects.select_for_update()
            .filter(family_id=mandate.family_id)
            .order_by("pk")
        }
        mandate = locked[mandate.pk]
        if mandate.status != MandateStatus.PENDING:
            return mandate
        if state.status == "succeeded" and state.payment_method_ref:
            for other in locked.values():
                if other.status == MandateStatus.ACTIVE:
                    other.status = MandateStatus.REPLACED
                    other.ended_at = now
                    other.save(update_fields=["status", "ended_at"])
                    _detach_after_commit(commune, other)
            mandate.status = MandateStatus.ACTIVE
            mandate.activated_at = now
            mandate.payment_method_ref = state.payment_method_ref
            mandate.customer_ref = state.customer_ref or mandate.customer_ref
            mandate.iban_last4 = state.iban_last4[-4:]
            mandate.bank_code = state.bank_code[:20]
            mandate.country = state.country[:2]
            mandate.mandate_reference = state.mandate_reference[:100]
            mandate.client_secret = ""
            mandate.save()
        elif state.status == "failed":
            mandate.status = MandateStatus.FAILED
            mandate.ended_at = now
            mandate.client_secret = ""
            mandate.save(update_fields=["status", "ended_at", "client_secret"])
    return mandate


def revoke_mandate(
    *, commune: Commune, user: User, mandate_id: object, now: datetime.datetime | None = None
) -> Mandate:
    """The family withdraws its authorisation: the mandate (active or still pending) is revoked
    and no later collection may use it (collections require an active mandate), and its
    payment method is detached at the provider once committed, so no debit can be made with
    it there either; days already booked by direct debit stay owed and are invoiced, to be
    paid another way.

    Errors: MandateNotFound (not this family's here), MandateNotRevocable (already ended).
    """
    assert_on_schema(commune)
    now = now or timezone.now()
    mandate = own_mandate(user=user, mandate_id=mandate_id)
    with transaction.atomic():
        mandate = Mandate.objects.select_for_update().get(pk=mandate.pk)
        if mandate.status not in (MandateStatus.ACTIVE, MandateStatus.PENDING):
            raise MandateNotRevocable()
        mandate.status = MandateStatus.REVOKED
        mandate.ended_at = now
        mandate.ended_by = user
        mandate.client_secret = ""
        mandate.save(update_fields=["status", "ended_at", "ended_by", "client_secret"])
        _detach_after_commit(commune, mandate)
    return mandate


def _detach_after_commit(commune: Commune, mandate: Mandate) -> None:
    """Once the mandate's end is committed, detach its payment method at the provider
    (tasks.detach_mandate_method_task, retried until the provider answers)."""
    if mandate.payment_method_ref:
        from config.celery import enqueue_on_commit
        from tenant_apps.billing.tasks import detach_mandate_method_task

        enqueue_on_commit(detach_mandate_method_task, commune.schema_name, mandate.pk)


def on_setup_notification(notification: Notification) -> None:
    """settings.PAYMENT_SETUP_HOOK: a signed `setup_intent.*` event arrived (public schema).

    The event only says which set-up to look at: the commune named in its metadata reads the
    state again from the provider (`sync_mandate`). An event naming no known commune or
    mandate moves nothing.
    """
    schema = str(notification.metadata.get("schema") or "")
    commune = Commune.objects.filter(schema_name=schema).first() if schema else None
    if commune is None or not notification.setup_ref:
        return
    with tenant_context(commune):
        mandate_id = (
            Mandate.objects.filter(setup_ref=notification.setup_ref)
            .values_list("pk", flat=True)
            .first()
        )
        if mandate_id is not None:
            sync_mandate(commune=commune, mandate_id=mandate_id)
