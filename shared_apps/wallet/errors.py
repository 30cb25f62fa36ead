from shared_apps.common.errors import Conflict, DomainError


class InsufficientBalance(Conflict):
    code = "insufficient_balance"
    message = "Solde insuffisant dans le porte-monnaie pour ce service."


class InvalidAmount(DomainError):
    code = "invalid_amount"
    message = "Montant invalide."


class DuplicateCounterPayment(Conflict):
    code = "duplicate_reference"
    message = "Un encaissement avec cette référence est déjà enregistré."


class ReceivableOverpaid(Conflict):
    code = "receivable_overpaid"
    message = "Ce montant dépasse ce que la famille doit à ce service."


class UnbalancedTransaction(Exception):
    """A programming error: postings that do not sum to zero never reach the database."""
