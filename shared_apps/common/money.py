"""Money is integer cents in EUR; this is the one place that writes it for people."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation


def format_euros(cents: int | None) -> str:
    """4000 → '40,00 €' (French: comma decimals, narrow no-break space for thousands)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{sign}{grouped},{rest:02d}\u00a0€"


def parse_euros(text: str) -> int | None:
    """'3,80', '3.80 €', '40' → cents; None when it is not an amount."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text or "").replace(",", ".")
    if not re.fullmatch(r"[0-9]{1,7}(\.[0-9]{1,2})?", cleaned):  # ASCII digits only
        return None
    try:
        return int((Decimal(cleaned) * 100).to_integral_value())
    except InvalidOperation:
        return None
