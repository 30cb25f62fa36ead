"""The payment-provider interface: what Marelle needs from Stripe today and PayFiP tomorrow.

A provider starts a payment, turns a notification it sent (raw body + headers) into a verified
`Notification` with a provider-neutral outcome, refunds, and declares what it can do. Services
only speak this interface; nothing outside `stripe_provider.py` imports `stripe`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol


class Outcome:
    """Where a notification moves a payment, in our words (see models.PaymentStatus)."""

    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class Capabilities:
    card: bool = True
    # True: the browser confirms with a client secret (Stripe's Card Element).
    # False: the parent is sent to the provider's page (PayFiP) and comes back.
    client_side_confirmation: bool = True
    refunds: bool = True
    partial_refunds: bool = True
    # Whether the provider itself deduplicates retried requests (we also guard in our database).
    idempotency_keys: bool = True
    currencies: tuple[str, ...] = ("eur",)


@dataclass(frozen=True)
class StartedPayment:
    provider_ref: str
    client_secret: str = ""  # client-side confirmation
    redirect_url: str = ""  # redirect providers


@dataclass(frozen=True)
class Notification:
    """A verified notification. `outcome` is None for events that move no payment."""

    event_id: str
    type: str
    payload: dict
    payment_ref: str | None = None
    outcome: str | None = None
    amount_cents: int | None = None
    currency: str | None = None
    failure_code: str = ""
    metadata: dict = field(default_factory=dict)
    # A bank-details set-up (Stripe SetupIntent) this notification is about, if any: its state is
    # read again from the provider by whoever owns it (settings.PAYMENT_SETUP_HOOK).
    setup_ref: str | None = None


@dataclass(frozen=True)
class StartedSetup:
    """A set-up of bank details for later debits (a SEPA mandate), to confirm in the browser."""

    provider_ref: str
    client_secret: str
    customer_ref: str = ""


@dataclass(frozen=True)
class SetupState:
    """A set-up as the provider knows it (read server-side, never from the browser).

    status: "succeeded", "pending" (not confirmed yet, or the bank still checks),
    "failed" (refused or canceled). The bank details are filled once a method is attached.
    """

    provider_ref: str
    status: str
    payment_method_ref: str = ""
    customer_ref: str = ""
    iban_last4: str = ""
    bank_code: str = ""
    country: str = ""
    mandate_reference: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderRefund:
    provider_ref: str
    status: str  # "succeeded" | "pending" | "failed"


@dataclass(frozen=True)
class ProviderRecord:
    """A payment or refund as the provider lists it, for reconciliation: its reference, amount
    in cents, provider-neutral status ("succeeded" | "pending" | "failed") and creation time."""

    provider_ref: str
    amount_cents: int
    status: str
    created: datetime.datetime


class ProviderError(Exception):
    """The provider could not be reached or answered with an error we may retry."""


class ProviderRefused(ProviderError):
    """The provider answered, definitively, no (invalid request, already refunded…)."""


class InvalidNotification(Exception):
    """A notification whose signature, timestamp or body cannot be trusted."""


class PaymentProvider(Protocol):
    name: str
    capabilities: Capabilities

    def is_configured(self) -> bool: ...

    def start_payment(
        self, *, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> StartedPayment: ...

    def parse_notification(self, *, raw_body: bytes, headers: Mapping[str, str]) -> Notification:
        """Verify a notification as received; raise InvalidNotification when it is not genuine."""
        ...

    def interpret(self, payload: dict) -> Notification:
        """Read an already verified and stored notification again (for asynchronous work)."""
        ...

    def refund(
        self, *, payment_ref: str, amount_cents: int, idempotency_key: str
    ) -> ProviderRefund: ...

    def client_config(self, *, client_secret: str) -> dict:
        """What a browser or the mobile app needs to confirm the payment."""
        ...

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
        """Debit a confirmed SEPA mandate, off session (the family is not there). The outcome
        comes later, by notification only (SEPA takes days). ProviderError on failure to ask."""
        ...

    def start_sepa_setup(
        self, *, metadata: dict[str, str], idempotency_key: str, email: str = ""
    ) -> StartedSetup:
        """Start collecting IBAN and mandate acceptance for later SEPA debits (raise
        ProviderError when the provider cannot be reached or refuses)."""
        ...

    def retrieve_setup(self, *, setup_ref: str) -> SetupState:
        """The set-up's state and bank details, asked to the provider (ProviderError)."""
        ...

    def recent_payments(self, *, since: datetime.datetime) -> list[ProviderRecord]:
        """The payments the provider holds created since `since` (ProviderError)."""
        ...

    def recent_refunds(self, *, since: datetime.datetime) -> list[ProviderRecord]:
        """The refunds the provider holds created since `since` (ProviderError)."""
        ...

    def detach_payment_method(self, *, payment_method_ref: str) -> None:
        """Make a saved payment method (a revoked SEPA mandate's) unusable for any later
        payment; one already detached or unknown is no error (ProviderError otherwise)."""
        ...


def _stripe() -> PaymentProvider:
    from shared_apps.payments.stripe_provider import StripeProvider

    return StripeProvider.from_settings()


# name → factory; a factory reads the current settings, so tests may override them.
PROVIDERS: dict[str, Callable[[], PaymentProvider]] = {"stripe": _stripe}
DEFAULT_PROVIDER = "stripe"


def get_provider(name: str = DEFAULT_PROVIDER) -> PaymentProvider:
    return PROVIDERS[name]()
