"""Stripe (cards via PaymentIntents and the Card Element; SEPA Direct Debit mandates via
SetupIntents and the IBAN Element), through `stripe.StripeClient` only.

Never the global `stripe.api_key`: every call goes through a client built from the settings, whose
API base may point at localstripe (tests, offline demo).
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping

import stripe
from django.conf import settings

from shared_apps.payments.providers import (
    Capabilities,
    InvalidNotification,
    Notification,
    Outcome,
    ProviderError,
    ProviderRecord,
    ProviderRefund,
    ProviderRefused,
    SetupState,
    StartedPayment,
    StartedSetup,
)

# Stripe event type → our outcome; other events are stored and move nothing.
EVENT_OUTCOMES = {
    "payment_intent.requires_action": Outcome.REQUIRES_ACTION,
    "payment_intent.processing": Outcome.PROCESSING,
    "payment_intent.succeeded": Outcome.SUCCEEDED,
    "payment_intent.payment_failed": Outcome.FAILED,
    "payment_intent.canceled": Outcome.CANCELED,
}

# SetupIntent status → ours (providers.SetupState): only "succeeded" makes a usable mandate.
SETUP_STATUSES = {
    "succeeded": "succeeded",
    "canceled": "failed",
    "requires_payment_method": "pending",
    "requires_confirmation": "pending",
    "requires_action": "pending",
    "processing": "pending",
}

# PaymentIntent and Refund status → the provider-neutral one reconciliation compares with ours.
PAYMENT_RECORD_STATUSES = {"succeeded": "succeeded", "canceled": "failed"}
REFUND_RECORD_STATUSES = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}

# Connection problems and Stripe's own 5xx/429 may be retried; anything else is a refusal.
_TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


class StripeProvider:
    name = "stripe"
    capabilities = Capabilities()

    def __init__(
        self,
        *,
        secret_key: str,
        publishable_key: str,
        webhook_secret: str,
        api_base: str = "",
        js_url: str = "",
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self.secret_key = secret_key
        self.publishable_key = publishable_key
        self.webhook_secret = webhook_secret
        self.api_base = api_base
        self.js_url = js_url
        self._http_client = http_client

    @classmethod
    def from_settings(cls) -> StripeProvider:
        return cls(
            secret_key=settings.STRIPE_SECRET_KEY,
            publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            api_base=settings.STRIPE_API_BASE,
            js_url=settings.STRIPE_JS_URL,
        )

    def is_configured(self) -> bool:
        return bool(self.secret_key and self.publishable_key and self.webhook_secret)

    def client(self) -> stripe.StripeClient:
        if self._http_client is None:
            # Stripe's default waits 80 s: a web worker must not hang that long on a provider
            # that does not answer (the outcome is then unknown, and retried with the same key).
            self._http_client = stripe.new_default_http_client(
                timeout=getattr(settings, "STRIPE_TIMEOUT_SECONDS", 20)
            )
        return stripe.StripeClient(
            self.secret_key,
            base_addresses={"api": self.api_base} if self.api_base else None,
            http_client=self._http_client,
            max_network_retries=2,  # retried POSTs carry the same idempotency key
        )

    # --- payments -------------------------------------------------------------------------------

    def start_payment(
        self, *, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> StartedPayment:
        try:
            intent = self.client().v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency,
                    "payment_method_types": ["card"],
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return StartedPayment(provider_ref=intent.id, client_secret=intent.client_secret)

    def client_config(self, *, client_secret: str) -> dict:
        return {
            "provider": self.name,
            "client_secret": client_secret,
            "publishable_key": self.publishable_key,
            "js_url": self.js_url,
        }

    def start_mandate_debit(
        self,
        *,
        amount_cents: int,
        currency: str,
        customer_ref: str,
        payment_method_ref: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> StartedPayment:
        """An off-session PaymentIntent on the mandate's `sepa_debit` method, confirmed now;
        Stripe answers `processing` and tells the outcome by webhook days later."""
        try:
            intent = self.client().v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency,
                    "customer": customer_ref,
                    "payment_method": payment_method_ref,
                    "payment_method_types": ["sepa_debit"],
                    "confirm": True,
                    "off_session": True,
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        except _TRANSIENT as exc:
            raise ProviderError(str(exc)) from exc
        except stripe.StripeError as exc:
            raise ProviderRefused(str(exc)) from exc
        return StartedPayment(provider_ref=intent.id)

    # --- SEPA Direct Debit mandates -------------------------------------------------------------

    def start_sepa_setup(
        self, *, metadata: dict[str, str], idempotency_key: str, email: str = ""
    ) -> StartedSetup:
        """A Customer (off-session debits need one) and a SetupIntent for `sepa_debit` only,
        to confirm in the page with the IBAN Element (stripe.confirmSepaDebitSetup)."""
        client = self.client()
        try:
            customer = client.v1.customers.create(
                params={"metadata": metadata, **({"email": email} if email else {})},
                options={"idempotency_key": f"{idempotency_key}-customer"},
            )
            intent = client.v1.setup_intents.create(
                params={
                    "customer": customer.id,
                    "payment_method_types": ["sepa_debit"],
                    "usage": "off_session",
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return StartedSetup(
            provider_ref=intent.id, client_secret=intent.client_secret, customer_ref=customer.id
        )

    def retrieve_setup(self, *, setup_ref: str) -> SetupState:
        """Read the SetupIntent and its payment method from Stripe (the browser is not asked)."""
        client = self.client()
        try:
            intent = client.v1.setup_intents.retrieve(setup_ref)
            method = None
            method_ref = intent.payment_method
            if method_ref and not isinstance(method_ref, str):
                method_ref = method_ref.id
            if method_ref:
                method = client.v1.payment_methods.retrieve(method_ref)
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        sepa = (method.to_dict().get("sepa_debit") if method is not None else None) or {}
        mandate = intent.to_dict().get("mandate") or ""
        if isinstance(mandate, dict):
            mandate = mandate.get("id") or ""
        customer = intent.customer if isinstance(intent.customer, str) else ""
        return SetupState(
            provider_ref=intent.id,
            status=SETUP_STATUSES.get(intent.status, "pending"),
            payment_method_ref=method_ref or "",
            customer_ref=customer or "",
            iban_last4=str(sepa.get("last4") or ""),
            bank_code=str(sepa.get("bank_code") or ""),
            country=str(sepa.get("country") or ""),
            mandate_reference=str(sepa.get("mandate_reference") or mandate or ""),
            metadata=dict(intent.to_dict().get("metadata") or {}),
        )

    def detach_payment_method(self, *, payment_method_ref: str) -> None:
        """POST /v1/payment_methods/{id}/detach: Stripe refuses any later payment with it."""
        try:
            self.client().v1.payment_methods.detach(payment_method_ref)
        except stripe.InvalidRequestError as exc:
            if exc.code in ("resource_missing", "payment_method_not_attached") or (
                "not attached" in str(exc)
            ):
                return  # already detached, or never attached: nothing left to do
            raise ProviderRefused(str(exc)) from exc
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc

    # --- notifications --------------------------------------------------------------------------

    def parse_notification(self, *, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        signature = headers.get("Stripe-Signature") or headers.get("stripe-signature")
        if not self.webhook_secret:
            raise InvalidNotification("STRIPE_WEBHOOK_SECRET is not set")
        try:
            # Default tolerance (300 s): a replayed old notification is refused.
            self.client().construct_event(raw_body, signature, self.webhook_secret)
            payload = json.loads(raw_body)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise InvalidNotification(str(exc)) from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise InvalidNotification("not an event")
        return self.interpret(payload)

    def interpret(self, payload: dict) -> Notification:
        event_type = str(payload.get("type") or "")
        obj = (payload.get("data") or {}).get("object") or {}
        is_intent = isinstance(obj, dict) and obj.get("object") == "payment_intent"
        if isinstance(obj, dict) and obj.get("object") == "setup_intent":
            return Notification(
                event_id=payload["id"],
                type=event_type,
                payload=payload,
                setup_ref=str(obj.get("id") or "") or None,
                metadata=dict(obj.get("metadata") or {}),
            )
        if not is_intent:
            return Notification(event_id=payload["id"], type=event_type, payload=payload)
        error = obj.get("last_payment_error") or {}
        return Notification(
            event_id=payload["id"],
            type=event_type,
            payload=payload,
            payment_ref=obj.get("id"),
            outcome=EVENT_OUTCOMES.get(event_type),
            amount_cents=obj.get("amount"),
            currency=obj.get("currency"),
            failure_code=str(error.get("decline_code") or error.get("code") or ""),
            metadata=dict(obj.get("metadata") or {}),
        )

    # --- refunds --------------------------------------------------------------------------------

    def refund(
        self, *, payment_ref: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund:
        client = self.client()
        try:
            # A refund whose answer was lost (a timeout after Stripe acted) is found again by
            # the key we wrote in its metadata, before asking anew: Stripe keeps idempotency keys
            # for 24 hours only, and localstripe ignores them.
            refund = self._refund_with_key(client, payment_ref, idempotency_key)
            if refund is None:
                refund = client.v1.refunds.create(
                    params={
                        "payment_intent": payment_ref,
                        "amount": amount_cents,
                        "metadata": {"refund_key": idempotency_key},
                    },
                    # No silent retry here: a lost answer comes back to us (pending refund,
                    # retried later with the lookup above).
                    options={"idempotency_key": idempotency_key, "max_network_retries": 0},
                )
        except _TRANSIENT as exc:
            raise ProviderError(str(exc)) from exc
        except stripe.StripeError as exc:
            raise ProviderRefused(str(exc)) from exc
        status = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(
            refund.status, "pending"
        )
        return ProviderRefund(provider_ref=refund.id, status=status)

    @staticmethod
    def _refund_with_key(
        client: stripe.StripeClient, payment_ref: str, idempotency_key: str
    ) -> stripe.Refund | None:
        """The payment's refund carrying our key in its metadata, if Stripe has one."""
        refunds = client.v1.refunds.list(params={"payment_intent": payment_ref, "limit": 100})
        for refund in refunds.data:
            metadata = refund.metadata.to_dict() if refund.metadata else {}
            if metadata.get("refund_key") == idempotency_key:
                return refund
        return None

    # --- reconciliation -------------------------------------------------------------------------

    def recent_payments(self, *, since: datetime.datetime) -> list[ProviderRecord]:
        """PaymentIntents created since `since`, their status as ours ("succeeded", "failed" for
        canceled, "pending" otherwise). Read only."""
        try:
            intents = self.client().v1.payment_intents.list(params={"limit": 100})
            return self._since(intents.auto_paging_iter(), since, PAYMENT_RECORD_STATUSES)
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc

    def recent_refunds(self, *, since: datetime.datetime) -> list[ProviderRecord]:
        """Refunds created since `since` ("succeeded", "failed" or "pending"). Read only."""
        try:
            refunds = self.client().v1.refunds.list(params={"limit": 100})
            return self._since(refunds.auto_paging_iter(), since, REFUND_RECORD_STATUSES)
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc

    @staticmethod
    def _since(
        objects: Iterable, since: datetime.datetime, statuses: Mapping[str, str]
    ) -> list[ProviderRecord]:
        # Stripe lists newest first: the first older object ends the walk. (localstripe lists
        # oldest first and takes no `created` filter, so the test data is all recent.)
        records = []
        for obj in objects:
            created = datetime.datetime.fromtimestamp(obj.created, tz=datetime.UTC)
            if created < since:
                break
            records.append(
                ProviderRecord(
                    provider_ref=obj.id,
                    amount_cents=int(obj.amount),
                    status=statuses.get(obj.status, "pending"),
                    created=created,
                )
            )
        return records
