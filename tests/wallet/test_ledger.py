"""The ledger's rules: spending order, earmarking, all-or-nothing, idempotency, verification."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from shared_apps.wallet.errors import InsufficientBalance, InvalidAmount
from shared_apps.wallet.models import Account, LedgerTransaction, Posting
from shared_apps.wallet.selectors import pockets_of
from shared_apps.wallet.services import (
    credit_top_up,
    pay_from_wallet,
    refund_to_service_pocket,
)

pytestmark = pytest.mark.django_db

SERVICE_A, SERVICE_B = 1, 1  # the same id in two communes is two different services


def balances(family) -> dict:
    return {(p.commune_slug, p.service_id): p.balance_cents for p in pockets_of(family.pk)}


def fund(family, commune_a, commune_b):
    """The guide's example: 20 € Baneins-like pocket (B), 15 € pocket (A), 5 € general."""
    credit_top_up(
        source_key="t1",
        family_id=family.pk,
        amount_cents=2000,
        commune=commune_b,
        service_id=SERVICE_B,
    )
    credit_top_up(
        source_key="t2",
        family_id=family.pk,
        amount_cents=1500,
        commune=commune_a,
        service_id=SERVICE_A,
    )
    credit_top_up(source_key="t3", family_id=family.pk, amount_cents=500)


def test_top_up_credits_the_chosen_pocket_once_per_source_key(family, commune_a):
    _, created = credit_top_up(source_key="topup:1", family_id=family.pk, amount_cents=5000)
    _, again = credit_top_up(source_key="topup:1", family_id=family.pk, amount_cents=5000)
    assert created and not again
    assert balances(family) == {(None, None): 5000}


def test_spending_takes_the_service_pocket_first_then_general(family, commune_a, commune_b):
    fund(family, commune_a, commune_b)
    payment = pay_from_wallet(
        source_key="booking:1",
        family_id=family.pk,
        commune=commune_a,
        service_id=SERVICE_A,
        amount_cents=1800,
        description="Repas",
    )
    assert (payment.from_service_cents, payment.from_general_cents) == (1500, 300)
    assert balances(family) == {(None, None): 200, ("commune-a", 1): 0, ("commune-b", 1): 2000}


def test_earmarked_pocket_never_pays_another_commune(family, commune_a, commune_b):
    credit_top_up(
        source_key="t",
        family_id=family.pk,
        amount_cents=2000,
        commune=commune_b,
        service_id=SERVICE_B,
    )
    with pytest.raises(InsufficientBalance):
        pay_from_wallet(
            source_key="booking:x",
            family_id=family.pk,
            commune=commune_a,
            service_id=SERVICE_A,
            amount_cents=100,
            description="Repas",
        )
    assert balances(family)[("commune-b", 1)] == 2000
    assert not LedgerTransaction.objects.filter(source_key="booking:x").exists()


def test_earmarked_pocket_never_pays_another_service_of_the_same_commune(family, commune_a):
    credit_top_up(
        source_key="t", family_id=family.pk, amount_cents=2000, commune=commune_a, service_id=1
    )
    with pytest.raises(InsufficientBalance):
        pay_from_wallet(
            source_key="b",
            family_id=family.pk,
            commune=commune_a,
            service_id=2,
            amount_cents=100,
            description="Garderie",
        )


def test_insufficient_balance_moves_nothing(family, commune_a, commune_b):
    fund(family, commune_a, commune_b)
    before = balances(family)
    with pytest.raises(InsufficientBalance):
        pay_from_wallet(
            source_key="big",
            family_id=family.pk,
            commune=commune_a,
            service_id=SERVICE_A,
            amount_cents=2001,
            description="Trop cher",
        )
    assert balances(family) == before


def test_general_credit_switched_off_by_the_operator(family, commune_a, settings):
    credit_top_up(source_key="t", family_id=family.pk, amount_cents=1000)
    settings.WALLET_GENERAL_CREDIT_ENABLED = False
    with pytest.raises(InsufficientBalance):
        pay_from_wallet(
            source_key="b",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=100,
            description="Repas",
        )


def test_general_credit_refused_by_a_commune(family, commune_a):
    credit_top_up(source_key="t", family_id=family.pk, amount_cents=1000)
    commune_a.accepts_general_credit = False
    with pytest.raises(InsufficientBalance):
        pay_from_wallet(
            source_key="b",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=100,
            description="Repas",
        )


def test_paying_twice_with_the_same_key_debits_once(family, commune_a):
    credit_top_up(source_key="t", family_id=family.pk, amount_cents=1000)
    first = pay_from_wallet(
        source_key="k",
        family_id=family.pk,
        commune=commune_a,
        service_id=1,
        amount_cents=380,
        description="Repas",
    )
    second = pay_from_wallet(
        source_key="k",
        family_id=family.pk,
        commune=commune_a,
        service_id=1,
        amount_cents=380,
        description="Repas",
    )
    assert first.transaction.pk == second.transaction.pk
    assert second.from_general_cents == 380
    assert balances(family)[(None, None)] == 620


def test_refund_goes_to_the_service_pocket_whatever_paid(family, commune_a):
    credit_top_up(source_key="t", family_id=family.pk, amount_cents=1000)
    pay_from_wallet(
        source_key="k",
        family_id=family.pk,
        commune=commune_a,
        service_id=1,
        amount_cents=380,
        description="Repas",
    )
    refund_to_service_pocket(
        source_key="cancel:k",
        family_id=family.pk,
        commune=commune_a,
        service_id=1,
        amount_cents=380,
        description="Annulation",
    )
    assert balances(family) == {(None, None): 620, ("commune-a", 1): 380}


@pytest.mark.parametrize("amount", [0, -100, 1.5, "100", True])
def test_bad_amounts_are_refused(family, amount):
    with pytest.raises(InvalidAmount):
        credit_top_up(source_key="t", family_id=family.pk, amount_cents=amount)
    assert not LedgerTransaction.objects.exists()


def test_a_pocket_cannot_go_negative_even_when_written_by_hand(family):
    credit_top_up(source_key="t", family_id=family.pk, amount_cents=100)
    pocket = Account.objects.get(wallet__family=family)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=pocket.pk).update(balance_cents=-1)


def test_the_database_refuses_an_unbalanced_transaction(family):
    ledger_transaction, _ = credit_top_up(source_key="t", family_id=family.pk, amount_cents=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Posting.objects.filter(transaction=ledger_transaction, amount_cents=100).update(
            amount_cents=90
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_verify_ledger_passes_on_a_sound_ledger(family, commune_a, commune_b, capsys):
    fund(family, commune_a, commune_b)
    pay_from_wallet(
        source_key="k",
        family_id=family.pk,
        commune=commune_a,
        service_id=1,
        amount_cents=1800,
        description="Repas",
    )
    call_command("verify_ledger")
    assert "Ledger OK" in capsys.readouterr().out


def test_verify_ledger_fails_on_a_tampered_balance(family):
    credit_top_up(source_key="t", family_id=family.pk, amount_cents=100)
    Account.objects.filter(wallet__family=family).update(balance_cents=5000)
    with pytest.raises(CommandError):
        call_command("verify_ledger")


def test_verify_ledger_fails_on_a_tampered_posting(family):
    ledger_transaction, _ = credit_top_up(source_key="t", family_id=family.pk, amount_cents=100)
    # The balancing trigger is deferred to commit, so within this transaction the tampering
    # stands and the command must catch it.
    tampered = Posting.objects.filter(transaction=ledger_transaction, amount_cents=-100)
    tampered_pk = tampered.get().pk
    tampered.update(amount_cents=-90)
    with pytest.raises(CommandError):
        call_command("verify_ledger")
    # Undo, or the test tear-down's constraint check (the same trigger) rightly fails.
    Posting.objects.filter(pk=tampered_pk).update(amount_cents=-100)


def test_low_balance_email_when_a_payment_crosses_the_communes_threshold(
    family, commune_a, send_mail_now
):
    from django.core import mail

    from shared_apps.directory.services import publish_service

    publish_service(
        commune=commune_a,
        service_id=1,
        kind="cantine",
        name="Cantine",
        description="",
        is_active=True,
    )
    credit_top_up(
        source_key="t", family_id=family.pk, amount_cents=1200, commune=commune_a, service_id=1
    )
    with send_mail_now():
        pay_from_wallet(
            source_key="a",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=100,
            description="x",
            low_balance_threshold_cents=1000,
        )
    assert mail.outbox == []  # 11 € left: above the 10 € threshold
    with send_mail_now():
        pay_from_wallet(
            source_key="b",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=380,
            description="x",
            low_balance_threshold_cents=1000,
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [family.parent.email]
    assert "Cantine de Commune A" in mail.outbox[0].subject
    assert "7,20" in mail.outbox[0].body
    with send_mail_now():
        pay_from_wallet(
            source_key="c",
            family_id=family.pk,
            commune=commune_a,
            service_id=1,
            amount_cents=100,
            description="x",
            low_balance_threshold_cents=1000,
        )
    assert len(mail.outbox) == 1  # told once when crossing, not at every meal
