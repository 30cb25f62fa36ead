"""Card payment use cases: start a top-up, receive and process notifications, refund to the card.

The wallet is credited only here, from a verified provider notification processed asynchronously,
under a row lock on the payment, once per payment (ledger source key "topup:<payment pk>"), so
replayed, duplicated or reordered notifications credit at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.common.errors import DomainError
from shared_apps.common.money import format_euros
from shared_apps.common.validation import FieldErrors, parse_id
from shared_apps.directory.models import PublishedService
from shared_apps.families.services import get_or_create_family
from shared_apps.payments.errors import (
    GeneralCreditDisabled,
    InvalidSignature,
    NotRefundable,
    PaymentProviderUnavailable,
    RefundKeyReused,
    RefundRefused,
    UnknownService,
)
from shared_apps.payments.models import (
    Payment,
    PaymentStatus,
    Purpose,
    Refund,
    RefundStatus,
    Scope,
    WebhookEvent,
    can_move,
)
from shared_apps.payments.providers import (
    DEFAULT_PROVIDER,
    InvalidNotification,
    Notification,
    Outcome,
    PaymentProvider,
    ProviderError,
    ProviderRefused,
    SetupState,
    StartedSetup,
    get_provider,
)
from shared_apps.wallet import services as wallet
from shared_apps.wallet.models import TransactionKind
from tenants.selectors import commune_for_slug

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from shared_apps.wallet.models import Account, Wallet
    from tenants.models import Commune
from tenants.services import lock_active_commune

logger = logging.getLogger(__name__)

DECLINED_MESSAGE = "Paiement refusé par votre banque : aucun montant n’a été crédité."
AUTHENTICATION_FAILED_MESSAGE = (
    "L’authentification auprès de votre banque a échoué : aucun montant n’a été crédité."
)
CANCELED_MESSAGE = "Paiement annulé : aucun montant n’a été crédité."
UNAVAILABLE_MESSAGE = "Le paiement n’a pas pu être préparé : aucun montant n’a été débité."

_OUTCOME_STATUS = {
    Outcome.REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    Outcome.PROCESSING: PaymentStatus.PROCESSING,
    Outcome.SUCCEEDED: PaymentStatus.SUCCEEDED,
    Outcome.FAILED: PaymentStatus.FAILED,
    Outcome.CANCELED: PaymentStatus.CANCELED,
}


def card_payments_available() -> bool:
    """Whether a card payment can be started now: the provider has its keys. Pages and API
    offer the card only then (no "Carte bancaire" that could only fail)."""
    return get_provider(DEFAULT_PROVIDER).is_configured()


# --- starting a top-up --------------------------------------------------------------------------


def top_up_amount_error(amount_cents: object) -> str | None:
    """Why an amount cannot be topped up, in French, or None. Forms and API share this rule."""
    low, high = settings.WALLET_TOP_UP_MIN_CENTS, settings.WALLET_TOP_UP_MAX_CENTS
    if (
        not isinstance(amount_cents, int)
        or isinstance(amount_cents, bool)
        or not low <= amount_cents <= high
    ):
        return f"Choisissez un montant entre {format_euros(low)} et {format_euros(high)}."
    return None


def _pocket_for(
    scope: str, commune_slug: str | None, service_id: int | None, errors: FieldErrors
) -> tuple[Commune | None, int | None]:
    """(commune, service_id) of the pocket to credit; (None, None) for the general one."""
    if scope == Scope.GENERAL:
        if commune_slug or service_id:
            errors.add("service_id", "Ne précisez pas de service pour le crédit « tous services ».")
        return None, None
    if scope != Scope.SERVICE:
        errors.add("scope", "Choisissez « general » (tous les services) ou « service ».")
        return None, None
    if not commune_slug:
        errors.add("commune_slug", "Indiquez la commune du service à recharger.")
    if not isinstance(service_id, int) or isinstance(service_id, bool) or service_id <= 0:
        errors.add("service_id", "Indiquez le service à recharger.")
    if errors.errors:
        return None, None
    assert isinstance(service_id, int)  # checked just above
    commune = commune_for_slug(str(commune_slug)[:50])
    listed = (
        commune is not None
        and PublishedService.objects.filter(
            commune=commune, service_id=service_id, is_active=True
        ).exists()
    )
    if not listed:
        raise UnknownService(fields={"service_id": [UnknownService.message]})
    return commune, service_id


def start_top_up(
    *,
    user: User,
    amount_cents: int,
    scope: str,
    commune_slug: str | None = None,
    service_id: int | None = None,
) -> Payment:
    """Create the Payment and the provider's payment; the wallet is credited later, by webhook.

    Bad input creates nothing. The returned payment carries the client secret the browser (or
    the app) needs to confirm. A service pocket's commune must still be active (CommuneInactive).
    """
    errors = FieldErrors()
    amount_error = top_up_amount_error(amount_cents)
    if amount_error:
        errors.add("amount_cents", amount_error)
    commune, service_id = _pocket_for(scope, commune_slug, service_id, errors)
    errors.raise_if_any()
    if scope == Scope.GENERAL and not settings.WALLET_GENERAL_CREDIT_ENABLED:
        raise GeneralCreditDisabled()
    provider = get_provider(DEFAULT_PROVIDER)
    if not provider.is_configured():
        raise PaymentProviderUnavailable(
            "Le paiement par carte n’est pas disponible pour le moment."
        )

    family = get_or_create_family(user)
    with transaction.atomic():
        if commune is not None:  # a service pocket: its commune must still be open
            lock_active_commune(commune)
        payment = Payment.objects.create(
            family=family,
            created_by=user,
            purpose=Purpose.TOP_UP,
            amount_cents=amount_cents,
            scope=scope,
            commune=commune,
            service_id=service_id,
            provider=provider.name,
        )
    return _start_with_provider(payment, provider)


def start_checkout_payment(
    *, user: User, family_id: int, amount_cents: int, commune: Commune, metadata: dict
) -> Payment:
    """A card payment for a commune order; the order is fulfilled when the webhook confirms
    (settings.PAYMENT_FULFILMENT_HOOKS["checkout"]).

    Errors: PaymentProviderUnavailable; CommuneInactive if the commune closed since the order
    (the caller then releases the order).
    """
    provider = get_provider(DEFAULT_PROVIDER)
    if not provider.is_configured():
        raise PaymentProviderUnavailable(
            "Le paiement par carte n’est pas disponible pour le moment : choisissez le "
            "porte-monnaie ou le prélèvement."
        )
    with transaction.atomic():
        lock_active_commune(commune)
        payment = Payment.objects.create(
            family_id=family_id,
            created_by=user,
            purpose=Purpose.CHECKOUT,
            amount_cents=amount_cents,
            scope=Scope.SERVICE,
            commune=commune,
            metadata=metadata,
            provider=provider.name,
        )
    return _start_with_provider(payment, provider)


def _start_with_provider(payment: Payment, provider: PaymentProvider) -> Payment:
    # Outside any transaction: the provider is called once our row exists, and its answer saved.
    try:
        started = provider.start_payment(
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            metadata={
                "payment_id": str(payment.pk),
                "family_id": str(payment.family_id),
                "purpose": payment.purpose,
            },
            idempotency_key=f"marelle-payment-{payment.pk}-{payment.created_at:%Y%m%d%H%M%S}",
        )
    except ProviderError as exc:
        logger.warning("payment %s could not be started: %s", payment.pk, exc)
        payment.status = PaymentStatus.FAILED
        payment.failure_code = "provider_unavailable"
        payment.failure_message = UNAVAILABLE_MESSAGE
        payment.save(update_fields=["status", "failure_code", "failure_message", "updated_at"])
        raise PaymentProviderUnavailable() from exc
    from shared_apps.payments.tasks import process_webhook_event_task

    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=payment.pk)  # after an event that matched it
        payment.provider_ref = started.provider_ref
        payment.client_secret = started.client_secret
        payment.save(update_fields=["provider_ref", "client_secret", "updated_at"])
        # An event that arrived before this reference was saved is applied now.
        for event_pk in WebhookEvent.objects.filter(
            provider=payment.provider, payment_ref=started.provider_ref, processed_at__isnull=True
        ).values_list("pk", flat=True):
            enqueue_on_commit(process_webhook_event_task, event_pk)
    return payment


def client_config(payment: Payment) -> dict | None:
    """What the browser or the app needs to confirm the payment, while it can still be paid."""
    if not payment.can_be_paid:
        return None
    return get_provider(payment.provider).client_config(client_secret=payment.client_secret)


# --- bank details for direct debits (SEPA mandates) -------------------------------------------


def direct_debit_setup_available() -> bool:
    """Whether a SEPA mandate can be set up now (the provider has its keys)."""
    return get_provider(DEFAULT_PROVIDER).is_configured()


def start_sepa_setup(
    *, metadata: dict[str, str], idempotency_key: str, email: str = ""
) -> tuple[str, StartedSetup]:
    """Ask the provider for a SEPA Direct Debit set-up, to confirm in the browser with the IBAN.

    Returns (provider name, started set-up). The caller (the commune's billing) records it and
    learns the outcome from `sepa_setup_state`, never from the browser. Errors:
    PaymentProviderUnavailable (503) when the provider is not configured or cannot be reached.
    """
    provider = get_provider(DEFAULT_PROVIDER)
    if not provider.is_configured():
        raise PaymentProviderUnavailable(
            "Le prélèvement ne peut pas être mis en place pour le moment : réessayez plus tard."
        )
    try:
        started = provider.start_sepa_setup(
            metadata=metadata, idempotency_key=idempotency_key, email=email
        )
    except ProviderError as exc:
        logger.warning("SEPA set-up could not be started: %s", exc)
        raise PaymentProviderUnavailable(
            "Le prélèvement ne peut pas être mis en place pour le moment : réessayez plus tard."
        ) from exc
    return provider.name, started


def detach_sepa_method(*, payment_method_ref: str, provider_name: str = DEFAULT_PROVIDER) -> None:
    """A revoked or replaced mandate's payment method is detached at the provider, so nothing
    can be debited with it any more, whatever our own records say. Idempotent.
    Errors: ProviderError (the caller retries later)."""
    if payment_method_ref:
        get_provider(provider_name).detach_payment_method(payment_method_ref=payment_method_ref)


def start_mandate_debit(
    *,
    family_id: int,
    commune: Commune,
    amount_cents: int,
    customer_ref: str,
    payment_method_ref: str,
    metadata: dict[str, str],
) -> Payment:
    """Collect an invoice on the family's SEPA mandate: a Payment (purpose "invoice") and the
    provider's off-session debit. The payment stays pending until a signed notification moves
    it (succeeded → settings.PAYMENT_FULFILMENT_HOOKS["invoice"] settles it; failed → its
    failure_code/message say why), forward only like any payment.

    Must run outside a transaction (the provider is called once our row is committed).
    Errors: PaymentProviderUnavailable (503): the payment is then marked failed
    ("provider_unavailable") and may be tried again.
    """
    provider = get_provider(DEFAULT_PROVIDER)
    if not provider.is_configured():
        raise PaymentProviderUnavailable("Le prélèvement n’est pas disponible pour le moment.")
    payment = Payment.objects.create(
        family_id=family_id,
        purpose=Purpose.INVOICE,
        amount_cents=amount_cents,
        scope=Scope.SERVICE,
        commune=commune,
        metadata=metadata,
        provider=provider.name,
    )
    try:
        started = provider.start_mandate_debit(
            amount_cents=amount_cents,
            currency=payment.currency,
            customer_ref=customer_ref,
            payment_method_ref=payment_method_ref,
            metadata={**metadata, "payment_id": str(payment.pk), "purpose": Purpose.INVOICE},
            idempotency_key=f"marelle-debit-{payment.pk}",
        )
    except ProviderError as exc:
        logger.warning("debit %s could not be started: %s", payment.pk, exc)
        payment.status = PaymentStatus.FAILED
        payment.failure_code = "provider_unavailable"
        payment.failure_message = "Le prélèvement n’a pas pu être demandé à la banque."
        payment.save(update_fields=["status", "failure_code", "failure_message", "updated_at"])
        raise PaymentProviderUnavailable("Le prélèvement n’a pas pu être demandé.") from exc
    from shared_apps.payments.tasks import process_webhook_event_task

    with transaction.atomic():
        Payment.objects.select_for_update().get(pk=payment.pk)
        payment.provider_ref = started.provider_ref
        payment.save(update_fields=["provider_ref", "updated_at"])
        for event_pk in WebhookEvent.objects.filter(
            provider=payment.provider, payment_ref=started.provider_ref, processed_at__isnull=True
        ).values_list("pk", flat=True):
            enqueue_on_commit(process_webhook_event_task, event_pk)
    return payment


def start_invoice_card_payment(
    *, user: User, family_id: int, amount_cents: int, commune: Commune, metadata: dict
) -> Payment:
    """A card payment of a commune's invoice (instead of, or after, a rejected debit); settled
    when the webhook confirms (settings.PAYMENT_FULFILMENT_HOOKS["invoice"]). The browser
    confirms it with the client secret. Errors: PaymentProviderUnavailable; CommuneInactive."""
    provider = get_provider(DEFAULT_PROVIDER)
    if not provider.is_configured():
        raise PaymentProviderUnavailable(
            "Le paiement par carte n’est pas disponible pour le moment : payez avec le "
            "porte-monnaie ou réessayez plus tard."
        )
    with transaction.atomic():
        lock_active_commune(commune)
        payment = Payment.objects.create(
            family_id=family_id,
            created_by=user,
            purpose=Purpose.INVOICE,
            amount_cents=amount_cents,
            scope=Scope.SERVICE,
            commune=commune,
            metadata={**metadata, "method": "card"},
            provider=provider.name,
        )
    return _start_with_provider(payment, provider)


DEBIT_FAILED_MESSAGE = (
    "Prélèvement rejeté par votre banque : la facture reste à payer (carte ou porte-monnaie)."
)


def sepa_setup_config(*, client_secret: str, provider_name: str = DEFAULT_PROVIDER) -> dict:
    """What the browser or the app needs to confirm a SEPA set-up with the IBAN."""
    return get_provider(provider_name).client_config(client_secret=client_secret)


def sepa_setup_state(*, setup_ref: str, provider_name: str = DEFAULT_PROVIDER) -> SetupState:
    """The set-up's state as the provider knows it (server-side). Errors:
    PaymentProviderUnavailable (503) when the provider cannot be reached."""
    try:
        return get_provider(provider_name).retrieve_setup(setup_ref=setup_ref)
    except ProviderError as exc:
        raise PaymentProviderUnavailable(
            "L’état de votre mandat n’a pas pu être vérifié : réessayez dans un instant."
        ) from exc


# --- notifications ------------------------------------------------------------------------------


def receive_webhook(
    *, raw_body: bytes, headers: Mapping[str, str], provider_name: str = DEFAULT_PROVIDER
) -> tuple[WebhookEvent, bool]:
    """Verify a notification, store it once per event id, and queue its processing.

    Returns (event, created). A duplicate stores nothing more; it is queued again only if the
    first delivery has not been processed yet (processing is idempotent).
    """
    provider = get_provider(provider_name)
    try:
        notification = provider.parse_notification(raw_body=raw_body, headers=headers)
    except InvalidNotification as exc:
        logger.warning("refused %s notification: %s", provider_name, exc)
        raise InvalidSignature() from exc
    from shared_apps.payments.tasks import process_webhook_event_task

    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            event_id=notification.event_id,
            defaults={
                "provider": provider.name,
                "type": notification.type[:100],
                "payload": notification.payload,
                "payment_ref": (notification.payment_ref or "")[:255],
            },
        )
        if created or event.processed_at is None:
            enqueue_on_commit(process_webhook_event_task, event.pk)
    return event, created


def _payment_for(event: WebhookEvent, notification: Notification) -> Payment | None:
    """The locked payment a notification is about: by the provider's reference, or, when the
    event outran our saving of that reference, by the payment id we put in its metadata."""
    if not notification.payment_ref:
        return None
    payments = Payment.objects.select_for_update().filter(provider=event.provider)
    payment = payments.filter(provider_ref=notification.payment_ref).first()
    if payment is not None:
        return payment
    payment_id = parse_id(notification.metadata.get("payment_id"))
    if payment_id is None:
        return None
    payment = payments.filter(pk=payment_id, provider_ref__isnull=True).first()
    if payment is not None:
        payment.provider_ref = notification.payment_ref
        payment.save(update_fields=["provider_ref", "updated_at"])
    return payment


def process_webhook_event(*, event_pk: int) -> bool:
    """Apply one stored notification to its payment, forward only, crediting at most once.

    Returns True once the event is processed. A payment event that matches none of our payments
    yet is kept unprocessed (False), never dropped: `retry_unmatched_webhook_events` and the
    saving of a payment's provider reference try it again, since what a provider confirms must
    not be lost.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.processed_at is not None:
            return event is not None
        notification = get_provider(event.provider).interpret(event.payload)
        payment = _payment_for(event, notification)
        if payment is None and notification.outcome is not None:
            logger.warning("event %s matches no payment yet; kept for later", event.event_id)
            return False
        if payment is not None and notification.outcome is not None:
            _apply(payment, notification)
        if notification.setup_ref and getattr(settings, "PAYMENT_SETUP_HOOK", ""):
            # A bank-details set-up (SEPA mandate): its owner reads its state again from the
            # provider, in this transaction; named in settings, public code never imports
            # tenant apps. If that fails, the event stays unprocessed and is tried again.
            from django.utils.module_loading import import_string

            import_string(settings.PAYMENT_SETUP_HOOK)(notification)
        event.payment = payment
        event.processed_at = timezone.now()
        event.save(update_fields=["payment", "processed_at"])
        return True


UNMATCHED_EVENT_ALERT_AGE = timedelta(hours=1)


def retry_unmatched_webhook_events(*, now: datetime | None = None) -> int:
    """Process again the stored events not processed yet (oldest first); returns how many are
    still unmatched. Those older than UNMATCHED_EVENT_ALERT_AGE are logged as errors so an
    operator looks at them: a payment the provider confirmed that we cannot place."""
    now = now or timezone.now()
    still = 0
    pending = WebhookEvent.objects.filter(processed_at__isnull=True).order_by("received_at", "pk")
    for event in pending.only("pk", "event_id", "received_at"):
        if not process_webhook_event(event_pk=event.pk):
            still += 1
            if now - event.received_at > UNMATCHED_EVENT_ALERT_AGE:
                logger.error("provider event %s still matches no payment", event.event_id)
    return still


def _apply(payment: Payment, notification: Notification) -> None:
    """Move a locked payment forward; a succeeded top-up credits its pocket in this transaction."""
    assert notification.outcome is not None  # called for the events that move a payment only
    new_status = _OUTCOME_STATUS[notification.outcome]
    if not can_move(payment.status, new_status):
        logger.info("payment %s stays %s (late %s)", payment.pk, payment.status, notification.type)
        return
    if new_status == PaymentStatus.SUCCEEDED:
        if (notification.amount_cents, (notification.currency or "").lower()) != (
            payment.amount_cents,
            payment.currency,
        ):
            logger.error(
                "payment %s: provider reports %s %s, expected %s %s; not credited",
                payment.pk,
                notification.amount_cents,
                notification.currency,
                payment.amount_cents,
                payment.currency,
            )
            return
        if payment.purpose == Purpose.TOP_UP:
            ledger_transaction, _ = wallet.credit_top_up(
                source_key=f"topup:{payment.pk}",
                family_id=payment.family_id,
                amount_cents=payment.amount_cents,
                commune=payment.commune,
                service_id=payment.service_id,
            )
            payment.ledger_transaction = ledger_transaction
        else:
            # The commune's code fulfils what was paid for, in this same transaction; it is
            # named in settings because public code never imports tenant apps.
            from django.utils.module_loading import import_string

            fulfil = import_string(settings.PAYMENT_FULFILMENT_HOOKS[payment.purpose])
            payment.ledger_transaction = fulfil(payment)
        payment.succeeded_at = timezone.now()
        payment.failure_code = ""
        payment.failure_message = ""
    elif new_status == PaymentStatus.FAILED:
        failed_hook = getattr(settings, "PAYMENT_FAILURE_HOOKS", {}).get(payment.purpose)
        if failed_hook:
            # What was paid for learns it failed (e.g. tells the family), in this transaction.
            from django.utils.module_loading import import_string

            import_string(failed_hook)(payment)
        payment.failure_code = notification.failure_code[:100]
        payment.failure_message = (
            AUTHENTICATION_FAILED_MESSAGE
            if notification.failure_code == "payment_intent_authentication_failure"
            else DEBIT_FAILED_MESSAGE
            if payment.purpose == Purpose.INVOICE
            else DECLINED_MESSAGE
        )
    elif new_status == PaymentStatus.CANCELED and not payment.failure_message:
        payment.failure_message = CANCELED_MESSAGE
    payment.status = new_status
    payment.save()


# --- refunds to the card ------------------------------------------------------------------------


def _pocket_of(payment: Payment) -> tuple[Wallet, Account]:
    wallet_ = wallet.wallet_of_family(payment.family_id)
    if payment.scope == Scope.SERVICE:
        assert payment.commune is not None and payment.service_id is not None  # a service's
        return wallet_, wallet.service_pocket(wallet_, payment.commune, payment.service_id)
    return wallet_, wallet.general_pocket(wallet_)


def refund_to_card(
    *, payment: Payment, amount_cents: int, refund_key: str, created_by: User | None = None
) -> Refund:
    """Give back part or all of a top-up to the card, taking it back from the pocket it credited.

    Idempotent per `refund_key` (also sent to the provider as its idempotency key): the same key
    refunds once. The pocket is debited first, under lock (refused if it lacks the money), so the
    credit cannot be both spent and refunded; a definitive refusal by the provider puts it back.
    """
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise NotRefundable("Le montant à rembourser doit être positif.")
    refund_key = (refund_key or "").strip()
    if not refund_key or len(refund_key) > 200:
        raise NotRefundable("Clé de remboursement invalide.")

    refund = Refund.objects.filter(idempotency_key=refund_key).first()
    if refund is None:
        refund = _reserve_refund(payment, amount_cents, refund_key, created_by)
    elif refund.payment_id != payment.pk or refund.amount_cents != amount_cents:
        raise RefundKeyReused()
    if refund.status != RefundStatus.PENDING or refund.provider_ref:
        return refund  # done, or accepted by the provider and awaiting its confirmation
    return _send_refund(refund)


def _reserve_refund(
    payment: Payment, amount_cents: int, refund_key: str, created_by: User | None
) -> Refund:
    """Create the pending refund and debit the pocket, in one transaction."""
    try:
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if locked.purpose != Purpose.TOP_UP or locked.status != PaymentStatus.SUCCEEDED:
                raise NotRefundable("Seul un rechargement réussi peut être remboursé sur la carte.")
            already = (
                locked.refunds.exclude(status=RefundStatus.FAILED).aggregate(s=Sum("amount_cents"))[
                    "s"
                ]
                or 0
            )
            if already + amount_cents > locked.amount_cents:
                raise NotRefundable(
                    "Le remboursement dépasserait le montant payé "
                    f"({format_euros(locked.amount_cents - already)} remboursables au plus)."
                )
            refund = Refund.objects.create(
                payment=locked,
                amount_cents=amount_cents,
                idempotency_key=refund_key,
                created_by=created_by,
            )
            wallet_, pocket = _pocket_of(locked)
            ledger_transaction, _ = wallet.post_transaction(
                source_key=f"cardrefund:{refund_key}",
                kind=TransactionKind.CARD_REFUND,
                lines=[(pocket, -amount_cents), (wallet.card_clearing_account(), amount_cents)],
                description="Remboursement sur la carte bancaire",
                wallet=wallet_,
                commune=locked.commune,
                service_id=locked.service_id,
                created_by=created_by,
                metadata={"payment_id": locked.pk, "refund_key": refund_key},
            )  # raises InsufficientBalance (409) when the credit was already spent
            refund.ledger_transaction = ledger_transaction
            refund.save(update_fields=["ledger_transaction", "updated_at"])
    except IntegrityError:  # the same key, concurrently
        existing = Refund.objects.filter(idempotency_key=refund_key).first()
        if existing is None:
            raise
        refund = existing
        if refund.payment_id != payment.pk or refund.amount_cents != amount_cents:
            raise RefundKeyReused() from None
    return refund


def _send_refund(refund: Refund) -> Refund:
    """Ask the provider, holding the refund's row lock so that one caller only ever asks.

    The provider's idempotency key covers retries across processes; the lock covers concurrent
    callers with the same key, and providers (localstripe) that ignore idempotency keys.
    """
    error: DomainError | None = None
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        if refund.status != RefundStatus.PENDING or refund.provider_ref:
            return refund
        payment = refund.payment
        try:
            answer = get_provider(payment.provider).refund(
                payment_ref=payment.provider_ref or "",
                amount_cents=refund.amount_cents,
                idempotency_key=refund.idempotency_key,
            )
        except ProviderRefused as exc:
            logger.warning("refund %s refused: %s", refund.idempotency_key, exc)
            _fail_refund(refund)
            error = RefundRefused()
        except ProviderError as exc:
            # Unknown outcome: the money stays out of the pocket; the same key may be retried.
            logger.warning("refund %s not confirmed yet: %s", refund.idempotency_key, exc)
            error = PaymentProviderUnavailable(
                "Le remboursement n’a pas pu être confirmé. Réessayez plus tard avec la même clé."
            )
        else:
            if answer.status == "failed":
                _fail_refund(refund)
                error = RefundRefused()
            else:
                refund.provider_ref = answer.provider_ref
                if answer.status == "succeeded":
                    refund.status = RefundStatus.SUCCEEDED
                refund.save(update_fields=["provider_ref", "status", "updated_at"])
    if error is not None:
        raise error
    return refund


def _fail_refund(refund: Refund) -> None:
    """The provider said no (the refund's row is locked): put the money back in the pocket."""
    payment = refund.payment
    wallet_, pocket = _pocket_of(payment)
    wallet.post_transaction(
        source_key=f"cardrefund-reversal:{refund.idempotency_key}",
        kind=TransactionKind.CARD_REFUND,
        lines=[
            (pocket, refund.amount_cents),
            (wallet.card_clearing_account(), -refund.amount_cents),
        ],
        description="Remboursement sur carte refusé : crédit rétabli",
        wallet=wallet_,
        commune=payment.commune,
        service_id=payment.service_id,
        metadata={"payment_id": payment.pk, "refund_key": refund.idempotency_key},
    )
    refund.status = RefundStatus.FAILED
    refund.failure_message = "Remboursement refusé par le prestataire de paiement."
    refund.save(update_fields=["status", "failure_message", "updated_at"])
