"""A valid service, as the catalogue's forms and services receive it."""

CANTINE = {
    "kind": "cantine",
    "name": "Cantine",
    "description": "Restaurant scolaire.",
    "payment_methods": ["card", "wallet", "direct_debit"],
}
