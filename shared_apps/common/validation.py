"""Input clean-up at the edge (forms, serializers, query parameters): one rule, one place.

What a client sends is parsed here, once, into Python values; services receive dates, ints and
model instances and never parse again. The rules:

- a day is AAAA-MM-JJ (or a `date`), in the years 2000 to 2100 (`parse_date`, `date_param`):
  beyond, a date is a typo or a probe, and date arithmetic near year 1 or 9999 overflows
  (a field with narrower bounds of its own, a birth date, checks those instead);
- an id is a non-negative whole number PostgreSQL can hold as a bigint (`parse_id`,
  `int_param`): a larger one is no id and must not reach the database;
- a number is a whole number, as an int or its ASCII digits as text, that a bigint can hold
  (`parse_int`); a boolean is not a number. Each caller then checks the bounds of its field.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence

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


def distinct_choices(raw: object, allowed: Sequence[str | int]) -> list | None:
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


# Dates the platform can mean: beyond, a date is a typo or a probe (and date arithmetic near
# year 1 or 9999 overflows).
FIRST_YEAR, LAST_YEAR = 2000, 2100

_WHOLE_NUMBER_RE = re.compile(r"\s*-?[0-9]{1,19}\s*")


def parse_int(value: object) -> int | None:
    """A whole number given as an int or typed as text (" 12 ", "-3"); None otherwise.

    Booleans are not numbers; a number a bigint cannot hold is none either."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) <= MAX_DATABASE_ID else None
    if isinstance(value, str) and _WHOLE_NUMBER_RE.fullmatch(value):
        return parse_int(int(value))
    return None


def parse_id(value: object) -> int | None:
    """An id a database row may have (0 to the largest bigint); None otherwise."""
    number = parse_int(value)
    return number if number is not None and 0 <= number <= MAX_DATABASE_ID else None


def in_our_years(day: datetime.date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_date(value: object, *, any_year: bool = False) -> datetime.date | None:
    """A day given as a date or typed AAAA-MM-JJ, in the years 2000 to 2100; None otherwise.

    A datetime is a moment, not a day: refused. `any_year` only for a field whose own bounds
    are narrower and say why in their own words (a birth date: "dans le futur", "peu
    plausible"); it must check them."""
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        day = value
    elif isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    else:
        return None
    return day if any_year or in_our_years(day) else None


def date_param(params: Mapping, name: str, *, required: bool = True) -> datetime.date | None:
    """A query parameter as a date (AAAA-MM-JJ, years 2000 to 2100), or InvalidInput."""
    raw = params.get(name)
    if not raw:
        if required:
            raise InvalidInput(fields={name: ["Paramètre obligatoire (AAAA-MM-JJ)."]})
        return None
    try:
        value = datetime.date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(fields={name: ["Date attendue au format AAAA-MM-JJ."]}) from exc
    if not in_our_years(value):
        raise InvalidInput(fields={name: ["Date hors calendrier (années 2000 à 2100)."]})
    return value


def int_param(params: Mapping, name: str) -> int:
    """A query parameter as an id PostgreSQL can hold, or InvalidInput."""
    raw = params.get(name, "")
    value = parse_id(raw) if isinstance(raw, str) and raw.isascii() and raw.isdigit() else None
    if value is None:
        raise InvalidInput(fields={name: ["Identifiant numérique attendu."]})
    return value
