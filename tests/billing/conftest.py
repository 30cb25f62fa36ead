"""Billing tests: localstripe for the mandates' set-ups (what the browser's Stripe.js does is
done over HTTP, as tests/payments/offline.Browser does for cards)."""

from __future__ import annotations

import pytest

from tests.payments.offline import PUBLISHABLE_KEY, call_localstripe

IBAN_OK = "FR1420041010050500013M02606"
# localstripe accepts every IBAN at set-up; this one's *debits* are declined (resources.py).
IBAN_DEBIT_DECLINED = "DE62370400440532013001"


class SepaBrowser:
    """stripe.confirmSepaDebitSetup, as the IBAN page's script calls it, over HTTP."""

    def __init__(self, base: str) -> None:
        self.base = base

    def confirm(self, client_secret: str, iban: str = IBAN_OK) -> tuple[int, dict]:
        setup_id = client_secret.split("_secret_")[0]
        return call_localstripe(
            "POST",
            f"{self.base}/v1/setup_intents/{setup_id}/confirm",
            {
                "key": PUBLISHABLE_KEY,
                "client_secret": client_secret,
                "payment_method_data[type]": "sepa_debit",
                "payment_method_data[sepa_debit][iban]": iban,
                "payment_method_data[billing_details][name]": "Camille Martin",
            },
            key=None,
        )

    def setup_intent(self, setup_id: str) -> dict:
        status, body = call_localstripe("GET", f"{self.base}/v1/setup_intents/{setup_id}")
        assert status == 200, body
        return body


@pytest.fixture
def sepa(stripe_offline) -> SepaBrowser:
    return SepaBrowser(stripe_offline)
