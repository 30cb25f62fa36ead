"""Hypothesis drives random sequences of money movements; the ledger must always balance."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from shared_apps.families.services import get_or_create_family
from shared_apps.wallet.errors import InsufficientBalance
from shared_apps.wallet.models import Account
from shared_apps.wallet.services import (
    credit_top_up,
    pay_from_wallet,
    record_counter_payment,
    refund_to_service_pocket,
)
from tenants.models import Commune
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=1, max_value=20_000)
services = st.sampled_from([1, 2])


class LedgerMachine(RuleBasedStateMachine):
    communes: list[Commune] = []

    @initialize()
    def new_family(self):
        self.staff = UserFactory()
        self.family = get_or_create_family(UserFactory())
        self.counter = 0
        self.expected: dict[tuple, int] = {}  # (commune_pk|None, service|None) → cents

    def _key(self, prefix):
        self.counter += 1
        return f"{prefix}:{self.family.pk}:{self.counter}"

    def _add(self, scope, cents):
        self.expected[scope] = self.expected.get(scope, 0) + cents

    @rule(amount=amounts, commune_index=st.sampled_from([None, 0, 1]), service=services)
    def top_up(self, amount, commune_index, service):
        commune = None if commune_index is None else self.communes[commune_index]
        credit_top_up(
            source_key=self._key("topup"),
            family_id=self.family.pk,
            amount_cents=amount,
            commune=commune,
            service_id=service if commune else None,
        )
        self._add((commune.pk, service) if commune else (None, None), amount)

    @rule(amount=amounts, commune_index=st.sampled_from([0, 1]), service=services)
    def spend(self, amount, commune_index, service):
        commune = self.communes[commune_index]
        own, general = (
            self.expected.get((commune.pk, service), 0),
            self.expected.get((None, None), 0),
        )
        try:
            payment = pay_from_wallet(
                source_key=self._key("spend"),
                family_id=self.family.pk,
                commune=commune,
                service_id=service,
                amount_cents=amount,
                description="x",
            )
        except InsufficientBalance:
            assert own + general < amount
            return
        assert payment.from_service_cents == min(own, amount)
        self._add((commune.pk, service), -payment.from_service_cents)
        self._add((None, None), -payment.from_general_cents)

    @rule(amount=amounts, commune_index=st.sampled_from([0, 1]), service=services)
    def refund(self, amount, commune_index, service):
        commune = self.communes[commune_index]
        refund_to_service_pocket(
            source_key=self._key("refund"),
            family_id=self.family.pk,
            commune=commune,
            service_id=service,
            amount_cents=amount,
            description="x",
        )
        self._add((commune.pk, service), amount)

    @rule(amount=st.integers(min_value=1, max_value=100_000), service=services)
    def counter_credit(self, amount, service):
        commune = self.communes[0]
        record_counter_payment(
            staff_user=self.staff,
            commune=commune,
            family_id=self.family.pk,
            service_id=service,
            service_name="Cantine",
            amount_cents=amount,
            method="cash",
            reference=self._key("r"),
        )
        self._add((commune.pk, service), amount)

    @invariant()
    def ledger_is_balanced_and_caches_match(self):
        if not hasattr(self, "family"):
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM (SELECT transaction_id FROM wallet_posting "
                "GROUP BY transaction_id HAVING SUM(amount_cents) <> 0) t"
            )
            assert cursor.fetchone()[0] == 0
            cursor.execute(
                "SELECT count(*) FROM wallet_account a WHERE a.balance_cents <> "
                "(SELECT COALESCE(SUM(amount_cents), 0) FROM wallet_posting p "
                "WHERE p.account_id = a.id)"
            )
            assert cursor.fetchone()[0] == 0
        pockets = {
            (a.commune_id, a.service_id): a.balance_cents
            for a in Account.objects.filter(wallet__family=self.family)
        }
        assert all(balance >= 0 for balance in pockets.values())
        assert {k: v for k, v in pockets.items() if v} == {
            k: v for k, v in self.expected.items() if v
        }


def test_random_money_movements_keep_the_ledger_balanced(commune_a, commune_b):
    LedgerMachine.communes = [commune_a, commune_b]
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
