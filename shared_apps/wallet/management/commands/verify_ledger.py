"""Check the ledger: every transaction sums to zero and every cached balance equals its postings;
no pocket below zero and no receivable (a family's debt for direct-debit bookings) above zero.

Exits with status 1 (and lists the faults) when anything is off, so it can run in cron/CI.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Verify the wallet ledger (balanced transactions, cached balances, no negative pocket)."

    def handle(self, *args, **options):
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT t.id, t.source_key, SUM(p.amount_cents)
                FROM wallet_ledgertransaction t JOIN wallet_posting p ON p.transaction_id = t.id
                GROUP BY t.id, t.source_key HAVING SUM(p.amount_cents) <> 0
                """
            )
            unbalanced = cursor.fetchall()
            cursor.execute(
                """
                SELECT a.id, a.kind, a.balance_cents, COALESCE(SUM(p.amount_cents), 0)
                FROM wallet_account a LEFT JOIN wallet_posting p ON p.account_id = a.id
                GROUP BY a.id HAVING a.balance_cents <> COALESCE(SUM(p.amount_cents), 0)
                """
            )
            drifted = cursor.fetchall()
            cursor.execute(
                """
                SELECT count(*) FROM wallet_ledgertransaction t
                WHERE NOT EXISTS (SELECT 1 FROM wallet_posting p WHERE p.transaction_id = t.id)
                """
            )
            empty = cursor.fetchone()[0]
            # Receivables: a family's debt to a service may be paid, never overpaid; and no posting
            # on a receivable may come from anything but a charge, its credit or a collection.
            cursor.execute(
                """
                SELECT a.id, a.balance_cents FROM wallet_account a
                WHERE a.kind = 'receivable' AND (a.balance_cents > 0 OR a.wallet_id IS NULL
                    OR a.commune_id IS NULL OR a.service_id IS NULL)
                """
            )
            bad_receivables = cursor.fetchall()
            cursor.execute(
                """
                SELECT DISTINCT t.id, t.source_key, t.kind FROM wallet_posting p
                JOIN wallet_account a ON a.id = p.account_id
                JOIN wallet_ledgertransaction t ON t.id = p.transaction_id
                WHERE a.kind = 'receivable'
                  AND t.kind NOT IN ('charge', 'charge_credit', 'collection')
                """
            )
            stray = cursor.fetchall()
            cursor.execute("SELECT count(*), COALESCE(SUM(balance_cents), 0) FROM wallet_account")
            accounts, total = cursor.fetchone()

        for tx_id, key, amount in unbalanced:
            self.stderr.write(f"transaction {tx_id} ({key}) sums to {amount}, not 0")
        for account_id, kind, cached, actual in drifted:
            self.stderr.write(
                f"account {account_id} ({kind}): cached {cached} != postings {actual}"
            )
        if empty:
            self.stderr.write(f"{empty} transaction(s) without postings")
        for account_id, balance in bad_receivables:
            self.stderr.write(
                f"receivable {account_id}: balance {balance} (overpaid, or not one family's debt "
                "to one service)"
            )
        for tx_id, key, kind in stray:
            self.stderr.write(f"transaction {tx_id} ({key}, {kind}) posts to a receivable")
        if total != 0 and not unbalanced:
            self.stderr.write(f"all balances sum to {total}, not 0")
        if unbalanced or drifted or empty or total != 0 or bad_receivables or stray:
            raise CommandError("Ledger verification FAILED.")
        self.stdout.write(self.style.SUCCESS(f"Ledger OK: {accounts} accounts, all balanced."))
