"""Billing use cases of one commune: SEPA mandates (mandates.py), receivables of direct-debit
bookings (receivables.py) and monthly invoices (invoicing.py)."""
