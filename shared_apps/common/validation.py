"""Input clean-up shared by forms, API and services: one rule, one place."""

from __future__ import annotations

import re

from shared_apps.common.errors import DomainError

# Ids are PostgreSQL bigints: a larger number is no id (and must not reach the database).
MAX_DATABASE_ID = 2**63 - 1


class InvalidInput(DomainError):
    code = "invalid"
    status = 400
    message = "Certaines informations ne sont pas valides."


class FieldErrors:
    """Collects field errors, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self, message: str | None = None) -> None:
        if self.errors:
            raise InvalidInput(message, fields=self.errors)


def distinct_choices(raw, allowed) -> list | None:
    """The distinct values of a client's list, in its order, when it is a list no longer than
    `allowed` whose every value is one of `allowed` (a repeated value adds nothing); None
    otherwise. Costs nothing more for a long list: it is refused on its length first."""
    if not isinstance(raw, list | tuple) or len(raw) > len(allowed):
        return None
    if any(not isinstance(value, str | int) or value not in allowed for value in raw):
        return None
    return list(dict.fromkeys(raw))


_PHONE_RE = re.compile(r"^(?:\+33|0033|0)([1-9])(\d{8})$")


def normalize_phone(raw: str) -> str | None:
    """French numbers in any usual form → '06 12 34 56 78'; None when it is not one."""
    compact = re.sub(r"[\s.\-()]", "", raw or "")
    match = _PHONE_RE.match(compact)
    if not match:
        return None
    digits = "0" + match.group(1) + match.group(2)
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def clean_text(value: str | None, *, max_length: int) -> str:
    """Trim and collapse inner runs of spaces (names, classes)."""
    return re.sub(r"[ \t]+", " ", (value or "").strip())[: max_length + 1]


def check_required(
    errors: FieldErrors, field: str, value: str, label: str, max_length: int
) -> None:
    if not value:
        errors.add(field, f"{label} : ce champ est obligatoire.")
    elif len(value) > max_length:
        errors.add(field, f"{label} : {max_length} caractères au maximum.")
