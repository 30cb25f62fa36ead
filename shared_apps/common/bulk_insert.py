"""Insert many rows of a model in one statement, without the per-field work of `bulk_create`.

`QuerySet.bulk_create` prepares every field of every instance one by one (a month for two
children is 32 reservations x 22 fields: about 3 ms of Python per checkout, more than its SQL).
On PostgreSQL the same INSERT can take one array per column that varies and one value for the
columns every row shares (`INSERT … SELECT … FROM unnest(…)`), so the preparation is done once
per column instead of once per field and row. The columns, their types and the defaults come
from the model, as for bulk_create: a field added to the model is inserted with its default,
never forgotten. Used on the hot booking path only (`bookings.services.checkout.place_order`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection, models
from django.utils import timezone

ModelT = TypeVar("ModelT", bound=models.Model)


def insert_rows(
    model: type[ModelT], rows: Sequence[dict[str, object]], **shared: object
) -> list[ModelT]:
    """Insert one row per dict of `rows` (field attnames → values, the same fields in every
    dict; `shared` gives the values every row has), every other field taking its default
    (`auto_now`/`auto_now_add`: now), in one statement on the current connection and schema.
    Returns the instances, in the order of `rows`, with their primary keys, as bulk_create
    would (no signals; no save()).

    Errors: ValueError when the dicts do not give the same fields, or name no field of the
    model (checked before any query); the database's
    (IntegrityError for a constraint, DataError for a value out of a column's range), raised
    before anything is written. Only for models whose primary key is an auto field and that
    have no multi-table inheritance.
    """
    if not rows:
        return []
    keys = tuple(rows[0])
    if any(len(row) != len(keys) or any(k not in row for k in keys) for row in rows):
        raise ValueError("insert_rows: every row must give the same fields")
    plan = _plan(model, tuple(shared), keys)
    now = timezone.now()
    defaults = {
        field.attname: now if auto_now else field.get_default() for field, auto_now in plan.defaults
    }
    params = [
        field.get_db_prep_save(
            shared[field.attname] if field.attname in shared else defaults[field.attname],
            connection,
        )
        for field in plan.scalars
    ]
    # Row numbers order the insert: the ids (from the table's sequence) then grow with them.
    arrays = [list(range(len(rows)))] + [
        [field.get_db_prep_save(row[field.attname], connection) for row in rows]
        for field in plan.arrays
    ]
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [*params, *arrays])
        ids = sorted(row[0] for row in cursor.fetchall())
    constants = {**defaults, **shared}
    instances = []
    for row, pk_value in zip(rows, ids, strict=True):
        values = {**constants, **row}
        instance = model(*(pk_value if f is plan.pk else values[f.attname] for f in plan.fields))
        instance._state.adding = False
        instances.append(instance)
    return instances


@dataclass(frozen=True)
class _Plan:
    pk: models.Field
    fields: list  # every concrete field, the pk included, in the model's order
    defaults: list  # (field, whether it takes "now") of the fields nobody gave
    scalars: list  # fields whose value is the same for every row (given in shared, or default)
    arrays: list  # fields given row by row
    sql: str


@functools.cache
def _plan(model: type[models.Model], shared: tuple[str, ...], keys: tuple[str, ...]) -> _Plan:
    """The statement for this model and these given fields, built once per process: the
    columns' types (`db_type`) cost more to work out than the rows to prepare."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    names = {field.attname for field in meta.concrete_fields if field is not pk}
    unknown = (set(shared) | set(keys)) - names
    if unknown:
        raise ValueError(f"insert_rows: {model.__name__} has no field {sorted(unknown)}")
    quote = connection.ops.quote_name
    columns, selects, casts, aliases = [], [], ["%s::integer[]"], ["n"]
    defaults, scalars, arrays = [], [], []
    for field in meta.concrete_fields:
        if field is pk:
            continue
        columns.append(quote(field.column))
        db_type = field.db_type(connection)
        if field.attname in keys and field.attname not in shared:
            arrays.append(field)
            aliases.append(f"c{len(arrays)}")
            casts.append(f"%s::{db_type}[]")
            selects.append(f"u.{aliases[-1]}")
            continue
        if field.attname not in shared:
            auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            defaults.append((field, auto_now))
        scalars.append(field)
        selects.append(f"%s::{db_type}")
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) "
        f"AS u({', '.join(aliases)}) ORDER BY u.n RETURNING {quote(pk.column)}"
    )
    return _Plan(pk, list(meta.concrete_fields), defaults, scalars, arrays, sql)
