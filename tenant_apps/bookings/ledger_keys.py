"""The ledger source keys of every booking payment and refund, each built by one function.

A key names one money movement: posting twice under the same key moves nothing the second time
(`shared_apps.wallet.services.post_transaction`). Retries, replayed webhooks and re-run releases
are idempotent only because every writer of a movement builds its key here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tenants.models import Commune


def order_payment(commune: Commune, order_id: int, service_id: int) -> str:
    """An order's share for one service, paid from the wallet at checkout."""
    return f"order:{commune.schema_name}:{order_id}:{service_id}"


def order_release(commune: Commune, order_id: int, service_id: int) -> str:
    """The wallet share of a card order never paid, given back when the order is released."""
    return f"release:{commune.schema_name}:{order_id}:{service_id}"


def refund(commune: Commune, reservation_id: int, refund_total_cents: int) -> str:
    """The refund that brings a reservation's refunds to `refund_total_cents`.

    Refund totals only grow, so each step has its own key and replaying a step moves nothing.
    A card order confirmed after cancellations posts their whole total under the same scheme.
    """
    return f"refund:{commune.schema_name}:{reservation_id}:{refund_total_cents}"


def card_payment(payment_id: int, service_id: int) -> str:
    """A confirmed card payment's share for one service, turned into the service's revenue."""
    return f"cardpay:{payment_id}:{service_id}"


def late_card_payment(payment_id: int, service_id: int) -> str:
    """A card payment confirmed after its order was released: credited to the family's pocket."""
    return f"cardpay-late:{payment_id}:{service_id}"


def orphan_card_payment(payment_id: int) -> str:
    """A card payment whose order cannot be found: credited rather than left unrecorded."""
    return f"cardpay-orphan:{payment_id}"


def attendance(commune: Commune, mark_id: int) -> str:
    """The money one attendance change moves (an absence refunded, a refund taken back after a
    correction): one key per `AttendanceMark`, written in the same transaction, so a replayed
    or doubled marking (which finds the state already applied and writes no mark) moves
    nothing."""
    return f"attendance:{commune.schema_name}:{mark_id}"
