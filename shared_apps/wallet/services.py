"""Moving money: the only code that writes the ledger.

Each use case posts one balanced transaction under a unique source key. Posting the same key
twice returns the first transaction and moves nothing (retries, replayed webhooks, double
clicks). Accounts are locked in primary-key order so concurrent movements cannot deadlock.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.audit.services import record
from shared_apps.families.models import Family
from shared_apps.wallet.errors import (
    DuplicateCounterPayment,
    InsufficientBalance,
    InvalidAmount,
    ReceivableOverpaid,
    UnbalancedTransaction,
)
from shared_apps.wallet.models import (
    Account,
    AccountKind,
    LedgerTransaction,
    Posting,
    TransactionKind,
    Wallet,
)
from tenants.services import lock_active_commune

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from tenants.models import Commune

COUNTER_METHODS = {"cash": "espèces", "cheque": "chèque", "transfer": "virement"}


@dataclass(frozen=True)
class WalletPayment:
    """How a wallet payment was split between the service's pocket and the general one."""

    transaction: LedgerTransaction
    from_service_cents: int
    from_general_cents: int

    @property
    def total_cents(self) -> int:
        return self.from_service_cents + self.from_general_cents


def wallet_of_family(family_id: int) -> Wallet:
    wallet = Wallet.objects.filter(family_id=family_id).first()
    if wallet is None:
        try:
            with transaction.atomic():
                wallet = Wallet.objects.create(family=Family.objects.get(pk=family_id))
        except IntegrityError:  # created concurrently
            wallet = Wallet.objects.get(family_id=family_id)
    return wallet


def _account(
    kind: str,
    *,
    wallet: Wallet | None = None,
    commune: Commune | None = None,
    service_id: int | None = None,
) -> Account:
    lookup = {"kind": kind, "wallet": wallet, "commune": commune, "service_id": service_id}
    account = Account.objects.filter(**lookup).first()
    if account is None:
        allows_negative = kind not in (AccountKind.GENERAL_POCKET, AccountKind.SERVICE_POCKET)
        try:
            with transaction.atomic():
                account = Account.objects.create(allows_negative=allows_negative, **lookup)
        except IntegrityError:
            account = Account.objects.get(**lookup)
    return account


def general_pocket(wallet: Wallet) -> Account:
    return _account(AccountKind.GENERAL_POCKET, wallet=wallet)


def service_pocket(wallet: Wallet, commune: Commune, service_id: int) -> Account:
    return _account(
        AccountKind.SERVICE_POCKET, wallet=wallet, commune=commune, service_id=service_id
    )


def _check_amount(amount_cents: object) -> int:
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise InvalidAmount("Le montant doit être un nombre entier de centimes, positif.")
    return amount_cents


def _write_transaction(
    *,
    source_key: str,
    kind: str,
    lines: list[tuple[int, int]],
    description: str,
    wallet: Wallet | None = None,
    commune: Commune | None = None,
    service_id: int | None = None,
    created_by: User | None = None,
    metadata: dict | None = None,
) -> LedgerTransaction | None:
    """Write a checked, balanced transaction — its row, its postings (account id, cents) and
    the accounts' new balances — in one statement; None (nothing written) when its source key
    exists already. The caller holds the accounts' locks and has checked the balances."""
    now = timezone.now()
    postings = ", ".join(["(%s::bigint, %s::bigint)"] * len(lines))
    delta: dict[int, int] = defaultdict(int)
    for account_id, amount in lines:
        delta[account_id] += amount
    changes = sorted((pk, change) for pk, change in delta.items() if change)
    params: list[Any] = [
        source_key,
        kind,
        wallet.pk if wallet else None,
        commune.pk if commune else None,
        service_id,
        description[:300],
        created_by.pk if created_by else None,
        now,
        json.dumps(metadata or {}),
        *(value for line in lines for value in line),
    ]
    update = ""
    if changes:
        update = (
            f', u AS (UPDATE "{Account._meta.db_table}" AS a '
            "SET balance_cents = a.balance_cents + d.change FROM t, (VALUES "
            + ", ".join(["(%s::bigint, %s::bigint)"] * len(changes))
            + ") AS d(account_id, change) WHERE a.id = d.account_id)"
        )
        params += [value for change in changes for value in change]
    with connection.cursor() as cursor:
        cursor.execute(
            f'WITH t AS (INSERT INTO "{LedgerTransaction._meta.db_table}" (source_key, kind, '
            "wallet_id, commune_id, service_id, description, created_by_id, created_at, "
            "metadata) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) "
            "ON CONFLICT (source_key) DO NOTHING RETURNING id), "
            f'p AS (INSERT INTO "{Posting._meta.db_table}" (transaction_id, account_id, '
            f"amount_cents) SELECT t.id, v.account_id, v.amount FROM t, (VALUES {postings}) "
            f"AS v(account_id, amount)){update} SELECT id FROM t",
            params,
        )
        row = cursor.fetchone()
    if row is None:
        return None
    ledger_transaction = LedgerTransaction(
        pk=row[0],
        source_key=source_key,
        kind=kind,
        wallet=wallet,
        commune=commune,
        service_id=service_id,
        description=description[:300],
        created_by=created_by,
        created_at=now,
        metadata=metadata or {},
    )
    ledger_transaction._state.adding = False
    ledger_transaction._state.db = connection.alias
    return ledger_transaction


def post_transaction(
    *,
    source_key: str,
    kind: str,
    lines: list[tuple[Account, int]],
    description: str,
    wallet: Wallet | None = None,
    commune: Commune | None = None,
    service_id: int | None = None,
    created_by: User | None = None,
    metadata: dict | None = None,
) -> tuple[LedgerTransaction, bool]:
    """Post a balanced transaction once per source key; return (transaction, created)."""
    if sum(amount for _, amount in lines) != 0 or any(amount == 0 for _, amount in lines):
        raise UnbalancedTransaction(source_key)
    existing = LedgerTransaction.objects.filter(source_key=source_key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            ids = sorted({account.pk for account, _ in lines})
            locked = {
                a.pk: a
                for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
            }
            # Re-check under the lock: a concurrent post of the same key may have won.
            if LedgerTransaction.objects.filter(source_key=source_key).exists():
                return LedgerTransaction.objects.get(source_key=source_key), False
            delta: dict[int, int] = {}
            for account, amount in lines:
                delta[account.pk] = delta.get(account.pk, 0) + amount
            for pk, change in delta.items():
                account = locked[pk]
                if not account.allows_negative and account.balance_cents + change < 0:
                    raise InsufficientBalance()
                if account.kind == AccountKind.RECEIVABLE and account.balance_cents + change > 0:
                    raise ReceivableOverpaid()
            ledger_transaction = _write_transaction(
                source_key=source_key,
                kind=kind,
                lines=[(account.pk, amount) for account, amount in lines],
                description=description,
                wallet=wallet,
                commune=commune,
                service_id=service_id,
                created_by=created_by,
                metadata=metadata,
            )
            if ledger_transaction is None:  # cannot happen under the locks: the key is checked
                raise IntegrityError(source_key)
    except IntegrityError:
        existing = LedgerTransaction.objects.filter(source_key=source_key).first()
        if existing is None:
            raise
        return existing, False
    return ledger_transaction, True


def credit_top_up(
    *,
    source_key: str,
    family_id: int,
    amount_cents: int,
    commune: Commune | None = None,
    service_id: int | None = None,
    description: str = "Rechargement par carte bancaire",
) -> tuple[LedgerTransaction, bool]:
    """A card payment confirmed by the provider: credit the chosen pocket, once per payment."""
    _check_amount(amount_cents)
    wallet = wallet_of_family(family_id)
    if service_id:
        assert commune is not None, "a service's pocket belongs to its commune"
        pocket = service_pocket(wallet, commune, service_id)
    else:
        pocket = general_pocket(wallet)
    clearing = _account(AccountKind.CARD_CLEARING)
    return post_transaction(
        source_key=source_key,
        kind=TransactionKind.TOP_UP,
        lines=[(pocket, amount_cents), (clearing, -amount_cents)],
        description=description,
        wallet=wallet,
        commune=commune,
        service_id=service_id,
    )


def general_credit_allowed(commune: Commune | None) -> bool:
    return settings.WALLET_GENERAL_CREDIT_ENABLED and getattr(
        commune, "accepts_general_credit", True
    )


def pay_from_wallet(
    *,
    source_key: str,
    family_id: int,
    commune: Commune,
    service_id: int,
    amount_cents: int,
    description: str,
    created_by: User | None = None,
    low_balance_threshold_cents: int | None = None,
) -> WalletPayment:
    """Pay a commune's service: its own pocket first, then the general one; all or nothing.

    Two queries when the accounts exist (a returning family): the family's service pocket and
    general pocket and the service's revenue account locked together in pk order (the one lock
    order of this module), then the transaction written in one statement (`_write_transaction`).
    A payment posted before under `source_key` is returned as it was (nothing moves again).
    Raises InsufficientBalance (nothing moved) when the pockets cannot pay it all.
    """
    _check_amount(amount_cents)
    # No savepoint inside the caller's transaction (a refusal raises before anything is
    # written, and the write is one statement); a transaction of its own otherwise.
    with transaction.atomic(savepoint=False):
        accounts = _lock_payment_accounts(family_id, commune, service_id)
        if accounts is None:  # a first payment: create what is missing, then lock
            wallet = wallet_of_family(family_id)
            service_pocket(wallet, commune, service_id)
            general_pocket(wallet)
            revenue_account(commune, service_id)
            accounts = _lock_payment_accounts(family_id, commune, service_id)
            assert accounts is not None
        own, general, revenue = accounts
        wallet = Wallet(pk=own.wallet_id, family_id=family_id)
        wallet._state.adding = False
        from_service = min(own.balance_cents, amount_cents)
        from_general = amount_cents - from_service
        if from_general and (
            not general_credit_allowed(commune) or general.balance_cents < from_general
        ):
            existing = LedgerTransaction.objects.filter(source_key=source_key).first()
            if existing:
                return _split_of(existing, own, general)
            short = True  # raised below, out of the block: nothing was written
        else:
            short = False
            lines = [(revenue.pk, amount_cents)]
            if from_service:
                lines.append((own.pk, -from_service))
            if from_general:
                lines.append((general.pk, -from_general))
            written = _write_transaction(
                source_key=source_key,
                kind=TransactionKind.SPEND,
                lines=lines,
                description=description,
                wallet=wallet,
                commune=commune,
                service_id=service_id,
                created_by=created_by,
            )
            if written is None:  # posted before (a retry): what it took then
                return _split_of(LedgerTransaction.objects.get(source_key=source_key), own, general)
            ledger_transaction = written
            if low_balance_threshold_cents is not None:
                remaining = own.balance_cents - from_service
                if remaining < low_balance_threshold_cents <= own.balance_cents:
                    from shared_apps.wallet.tasks import send_low_balance_email_task

                    enqueue_on_commit(
                        send_low_balance_email_task, own.pk, low_balance_threshold_cents
                    )
    if short:
        # Raised out of the block, which has no savepoint: an exception through it would spoil
        # the caller's whole transaction, and nothing was written to undo.
        raise InsufficientBalance()
    return WalletPayment(ledger_transaction, from_service, from_general)


_PAYMENT_ACCOUNTS_SQL = f"""
SELECT a.* FROM {Account._meta.db_table} a
LEFT JOIN {Wallet._meta.db_table} w ON w.id = a.wallet_id
WHERE (a.kind = %s AND w.family_id = %s AND a.commune_id = %s AND a.service_id = %s)
   OR (a.kind = %s AND w.family_id = %s)
   OR (a.kind = %s AND a.wallet_id IS NULL AND a.commune_id = %s AND a.service_id = %s)
ORDER BY a.id
FOR UPDATE OF a
"""


def _lock_payment_accounts(
    family_id: int, commune: Commune, service_id: int
) -> tuple[Account, Account, Account] | None:
    """(service pocket, general pocket, revenue) of a family's payment to a service, locked in
    pk order in one query; None when one of them does not exist yet."""
    # Written out (Account.objects.raw): every wallet payment runs it, and composing the three
    # scopes with the ORM cost more than PostgreSQL takes to lock them.
    found = list(
        Account.objects.raw(
            _PAYMENT_ACCOUNTS_SQL,
            [
                AccountKind.SERVICE_POCKET,
                family_id,
                commune.pk,
                service_id,
                AccountKind.GENERAL_POCKET,
                family_id,
                AccountKind.REVENUE,
                commune.pk,
                service_id,
            ],
        )
    )
    by_kind = {account.kind: account for account in found}
    if len(by_kind) != 3 or len(found) != 3:
        return None
    return (
        by_kind[AccountKind.SERVICE_POCKET],
        by_kind[AccountKind.GENERAL_POCKET],
        by_kind[AccountKind.REVENUE],
    )


def available_for(family_id: int, commune: Commune, service_id: int) -> int:
    """What the wallet can pay for this service now: its pocket, plus "tous services" if allowed."""
    wallet = Wallet.objects.filter(family_id=family_id).first()
    if wallet is None:
        return 0
    kinds = [AccountKind.SERVICE_POCKET]
    if general_credit_allowed(commune):
        kinds.append(AccountKind.GENERAL_POCKET)
    accounts = Account.objects.filter(wallet=wallet, kind__in=kinds).filter(
        models.Q(kind=AccountKind.GENERAL_POCKET) | models.Q(commune=commune, service_id=service_id)
    )
    return sum(accounts.values_list("balance_cents", flat=True))


def _split_of(
    ledger_transaction: LedgerTransaction, own: Account, general: Account
) -> WalletPayment:
    amounts = dict(ledger_transaction.postings.values_list("account_id", "amount_cents"))
    return WalletPayment(ledger_transaction, -amounts.get(own.pk, 0), -amounts.get(general.pk, 0))


def lock_refund_accounts(
    *,
    family_ids: Iterable[int],
    commune: Commune,
    service_id: int,
    receivable_family_ids: Iterable[int] = (),
) -> None:
    """Lock, in ascending id order, the accounts that refunds of these families to the service's
    pockets post to (the service's revenue and each family's pocket for it).

    For a transaction that refunds many families one after the other (a closure): it would
    otherwise hold the revenue account from the first refund on and then wait for a family's
    pocket that this family's own payment holds while it waits for the revenue account.
    `receivable_family_ids`: families whose direct-debit debt to the service is credited in the
    same transaction (their receivables are locked in the same single ordered pass).
    """
    ids = [revenue_account(commune, service_id).pk]
    ids += [
        service_pocket(wallet_of_family(family_id), commune, service_id).pk
        for family_id in sorted(set(family_ids))
    ]
    ids += [
        receivable_account(wallet_of_family(family_id), commune, service_id).pk
        for family_id in sorted(set(receivable_family_ids))
    ]
    list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def refund_to_service_pocket(
    *,
    source_key: str,
    family_id: int,
    commune: Commune,
    service_id: int,
    amount_cents: int,
    description: str,
    created_by: User | None = None,
) -> tuple[LedgerTransaction, bool]:
    """Give back what was paid for a service (a cancellation in time) into that service's pocket."""
    _check_amount(amount_cents)
    wallet = wallet_of_family(family_id)
    return post_transaction(
        source_key=source_key,
        kind=TransactionKind.REFUND,
        lines=[
            (service_pocket(wallet, commune, service_id), amount_cents),
            (revenue_account(commune, service_id), -amount_cents),
        ],
        description=description,
        wallet=wallet,
        commune=commune,
        service_id=service_id,
        created_by=created_by,
    )


def counter_source_key(*, commune: Commune, family_id: int, method: str, reference: str) -> str:
    """The ledger key of a counter payment: one per commune, family, method and reference
    (cheque numbers repeat across chequebooks, so a reference is unique per family only)."""
    return f"counter:{commune.pk}:{family_id}:{method}:{reference.strip().lower()}"


def record_counter_payment(
    *,
    staff_user: User,
    commune: Commune,
    family_id: int,
    service_id: int,
    service_name: str,
    amount_cents: int,
    method: str,
    reference: str,
) -> LedgerTransaction:
    """Cash, cheque or transfer received at the town hall, earmarked to one of its services.

    Errors: InvalidInput (bad method, reference or amount), DuplicateCounterPayment,
    CommuneInactive (the commune was deactivated).
    """
    from shared_apps.common.validation import FieldErrors

    errors = FieldErrors()
    reference = (reference or "").strip()
    if method not in COUNTER_METHODS:
        errors.add("method", "Mode de paiement : espèces, chèque ou virement.")
    if not reference or len(reference) > 60:
        errors.add("reference", "Indiquez la référence (n° de chèque, de reçu ou de virement).")
    if not isinstance(amount_cents, int) or not 0 < amount_cents <= 100_000:
        errors.add("amount_cents", "Montant entre 0,01 € et 1 000,00 €.")
    errors.raise_if_any()
    with transaction.atomic():
        lock_active_commune(commune)  # staff of a commune closed meanwhile move nothing
        wallet = wallet_of_family(family_id)
        ledger_transaction, created = post_transaction(
            source_key=counter_source_key(
                commune=commune, family_id=family_id, method=method, reference=reference
            ),
            kind=TransactionKind.COUNTER_CREDIT,
            lines=[
                (service_pocket(wallet, commune, service_id), amount_cents),
                (
                    _account(AccountKind.COUNTER, commune=commune, service_id=service_id),
                    -amount_cents,
                ),
            ],
            description=f"Versement en {COUNTER_METHODS[method]} en mairie ({service_name})",
            wallet=wallet,
            commune=commune,
            service_id=service_id,
            created_by=staff_user,
            metadata={"method": method, "reference": reference},
        )
        if not created:
            raise DuplicateCounterPayment()
        record(
            actor=staff_user,
            commune=commune,
            action="wallet.counter_credit",
            target_type="ledger_transaction",
            target_id=ledger_transaction.pk,
            family_id=family_id,
            details={
                "amount_cents": amount_cents,
                "method": method,
                "reference": reference,
                "service_id": service_id,
            },
        )
    return ledger_transaction


def card_clearing_account() -> Account:
    """Money in transit with the card provider (platform-wide; may be negative)."""
    return _account(AccountKind.CARD_CLEARING)


def revenue_account(commune: Commune, service_id: int) -> Account:
    """What a commune's service has earned (may go negative after refunds of card payments)."""
    return _account(AccountKind.REVENUE, commune=commune, service_id=service_id)


# --- receivables: post-paid services (direct debit, monthly invoices) ---------------------------


def receivable_account(wallet: Wallet, commune: Commune, service_id: int) -> Account:
    """What the family owes a commune's service (≤ 0: see models). Created on first use."""
    return _account(AccountKind.RECEIVABLE, wallet=wallet, commune=commune, service_id=service_id)


def debit_clearing_account() -> Account:
    """Direct debits collected and not yet paid out by the provider (platform-wide)."""
    return _account(AccountKind.DEBIT_CLEARING)


def charge_receivable(
    *,
    source_key: str,
    family_id: int,
    commune: Commune,
    service_id: int,
    amount_cents: int,
    description: str,
    created_by: User | None = None,
    metadata: dict | None = None,
) -> tuple[LedgerTransaction, bool]:
    """A service delivered on credit (booked by direct debit): the family owes `amount_cents`
    to the service, which has earned it. Once per source key; returns (transaction, created).
    Errors: InvalidAmount."""
    _check_amount(amount_cents)
    wallet = wallet_of_family(family_id)
    return post_transaction(
        source_key=source_key,
        kind=TransactionKind.CHARGE,
        lines=[
            (receivable_account(wallet, commune, service_id), -amount_cents),
            (revenue_account(commune, service_id), amount_cents),
        ],
        description=description,
        wallet=wallet,
        commune=commune,
        service_id=service_id,
        created_by=created_by,
        metadata=metadata,
    )


def credit_receivable(
    *,
    source_key: str,
    family_id: int,
    commune: Commune,
    service_id: int,
    amount_cents: int,
    description: str,
    created_by: User | None = None,
    metadata: dict | None = None,
) -> tuple[LedgerTransaction, bool]:
    """What will not be invoiced after all (a cancellation within the deadline, a closure): the
    family's debt and the service's revenue go down by `amount_cents`. Once per source key.
    Errors: InvalidAmount; ReceivableOverpaid (more than is owed: nothing is posted)."""
    _check_amount(amount_cents)
    wallet = wallet_of_family(family_id)
    return post_transaction(
        source_key=source_key,
        kind=TransactionKind.CHARGE_CREDIT,
        lines=[
            (receivable_account(wallet, commune, service_id), amount_cents),
            (revenue_account(commune, service_id), -amount_cents),
        ],
        description=description,
        wallet=wallet,
        commune=commune,
        service_id=service_id,
        created_by=created_by,
        metadata=metadata,
    )


def receivable_balances(family_id: int, commune: Commune) -> dict[int, int]:
    """{service_id: what the family owes it, in cents (≥ 0)} for one commune; one query."""
    wallet = Wallet.objects.filter(family_id=family_id).first()
    if wallet is None:
        return {}
    rows = Account.objects.filter(
        wallet=wallet, commune=commune, kind=AccountKind.RECEIVABLE
    ).values_list("service_id", "balance_cents")
    return {service_id: -balance for service_id, balance in rows if service_id is not None}


def settle_receivables(
    *,
    source_key: str,
    family_id: int,
    commune: Commune,
    amounts: dict[int, int],
    description: str,
    clearing: str = AccountKind.DEBIT_CLEARING,
    received_cents: int | None = None,
    metadata: dict | None = None,
) -> LedgerTransaction:
    """An invoice paid (a direct debit or a card payment the provider confirmed): each
    service's receivable goes up by what was paid for it, against the clearing account the
    money arrives in. One transaction, once per source key.

    `received_cents` (default: the sum of `amounts`): what the provider actually took. The
    money is always recorded in full: each receivable is settled at most by what the family
    still owes that service, and whatever the family no longer owes (a credit note issued
    after a card attempt failed and was then retried on the same payment, an invoice paid
    another way meanwhile) goes to the service's pocket of its wallet, never lost.
    Errors: InvalidAmount; ReceivableOverpaid (a receivable changed meanwhile: nothing is
    posted, the caller retries)."""
    for amount in amounts.values():
        _check_amount(amount)
    received = sum(amounts.values()) if received_cents is None else _check_amount(received_cents)
    wallet = wallet_of_family(family_id)
    receivables = {sid: receivable_account(wallet, commune, sid) for sid in sorted(amounts)}
    # Read without a lock (post_transaction locks every account in its own order): if a
    # receivable changes meanwhile, the posting's "never above zero" check refuses it and the
    # webhook's processing is retried with the new balance.
    owed = dict(
        Account.objects.filter(pk__in=[a.pk for a in receivables.values()]).values_list(
            "pk", "balance_cents"
        )
    )
    lines: list[tuple[Account, int]] = []
    left = received
    for service_id, account in receivables.items():
        settled = min(amounts[service_id], max(0, -owed.get(account.pk, 0)), left)
        if settled:
            lines.append((account, settled))
            left -= settled
    if left:
        first_service = min(amounts) if amounts else None
        if first_service is None:
            raise InvalidAmount("Paiement sans service à créditer.")
        lines.append((service_pocket(wallet, commune, first_service), left))
    lines.append((_account(clearing), -received))
    ledger_transaction, _ = post_transaction(
        source_key=source_key,
        kind=TransactionKind.COLLECTION,
        lines=lines,
        description=description,
        wallet=wallet,
        commune=commune,
        metadata=metadata,
    )
    return ledger_transaction


def pay_receivables_from_wallet(
    *,
    source_key: str,
    family_id: int,
    commune: Commune,
    amounts: dict[int, int],
    description: str,
    created_by: User | None = None,
    metadata: dict | None = None,
) -> LedgerTransaction:
    """Pay what the family owes a commune's services (an invoice) from its wallet: each
    service's own pocket first, then "tous services" (where allowed), all or nothing, once per
    source key. Errors: InvalidAmount; InsufficientBalance (nothing moved);
    ReceivableOverpaid (more than is owed)."""
    for amount in amounts.values():
        _check_amount(amount)
    wallet = wallet_of_family(family_id)
    general = general_pocket(wallet)
    own = {sid: service_pocket(wallet, commune, sid) for sid in sorted(amounts)}
    owed = {sid: receivable_account(wallet, commune, sid) for sid in sorted(amounts)}
    with transaction.atomic():
        ids = [general.pk, *(a.pk for a in own.values()), *(a.pk for a in owed.values())]
        balances = dict(
            Account.objects.select_for_update()
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "balance_cents")
        )
        existing = LedgerTransaction.objects.filter(source_key=source_key).first()
        if existing:
            return existing
        lines: list[tuple[Account, int]] = []
        from_general = 0
        for service_id, amount in sorted(amounts.items()):
            from_own = min(balances[own[service_id].pk], amount)
            from_general += amount - from_own
            lines.append((owed[service_id], amount))
            if from_own:
                lines.append((own[service_id], -from_own))
        if from_general:
            if not general_credit_allowed(commune) or balances[general.pk] < from_general:
                raise InsufficientBalance()
            lines.append((general, -from_general))
        ledger_transaction, _ = post_transaction(
            source_key=source_key,
            kind=TransactionKind.COLLECTION,
            lines=lines,
            description=description,
            wallet=wallet,
            commune=commune,
            created_by=created_by,
            metadata=metadata,
        )
    return ledger_transaction
