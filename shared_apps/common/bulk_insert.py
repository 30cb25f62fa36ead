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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection, models
from django.utils import timezone

ModelT = TypeVar("ModelT", bound=models.Model)
_SIZED_TEXT = re.compile(r"^(varchar|char)\(\d+\)$")
ParentT = TypeVar("ParentT", bound=models.Model)


def insert_rows(
    model: type[ModelT], rows: Sequence[dict[str, object]], **shared: object
) -> list[ModelT]:
    """Insert one row per dict of `rows` (field attnames → values, the same fields in every
    dict; `shared` gives the values every row has), every other field taking its default
    (`auto_now`/`auto_now_add`: now), in one statement on the current connection and schema.
    Returns the instances, in the order of `rows`, with their primary keys, as bulk_create
    would (no signals; no save()).

    Errors: ValueError when the dicts do not give the same fields, name no field of the model,
    or leave out a field whose default is computed per row (a uuid4; dict and list defaults
    are fine), or give an array field row by row (unnest would flatten it) — all checked before
    any query; the database's (IntegrityError for a constraint, DataError for a value out of a
    column's range), raised before anything is written. Only for models whose primary key is an
    auto field and that have no multi-table inheritance.
    """
    if not rows:
        return []
    statement = _Statement(model, rows, shared)
    with connection.cursor() as cursor:
        cursor.execute(statement.plan.sql, statement.params)
        ids = sorted(row[0] for row in cursor.fetchall())
    return statement.instances(ids)


def insert_with_parent(
    parent_model: type[ParentT],
    parent_values: dict[str, object],
    model: type[ModelT],
    parent_field: str,
    rows: Sequence[dict[str, object]],
    **shared: object,
) -> tuple[ParentT, list[ModelT]]:
    """One `parent_model` row (`parent_values`, every other field its default) and `rows` of
    `model` pointing to it by `parent_field` (a foreign key's attname, e.g. "order_id"), in one
    statement (`WITH parent AS (INSERT …) INSERT …`): one round trip instead of two. Rows
    and `shared` as for insert_rows. Returns the parent and the rows' instances, with their
    primary keys. Errors as insert_rows; `rows` must not be empty."""
    if not rows:
        raise ValueError("insert_with_parent: no rows")
    parent = _Statement(parent_model, [{}], parent_values)
    children = _Statement(model, rows, shared, parent_field=parent_field)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH parent AS ({parent.plan.sql}) {children.plan.sql}",
            [*parent.params, *children.params],
        )
        returned = cursor.fetchall()
    parent_id = returned[0][1]
    (parent_instance,) = parent.instances([parent_id])
    instances = children.instances(sorted(row[0] for row in returned), {parent_field: parent_id})
    return parent_instance, instances


class _Statement:
    """The parameters of one model's INSERT for these rows (its plan built once, `_plan`)."""

    def __init__(
        self,
        model: type[models.Model],
        rows: Sequence[dict[str, object]],
        shared: dict[str, object],
        *,
        parent_field: str | None = None,
    ) -> None:
        keys = tuple(rows[0])
        if any(len(row) != len(keys) or any(k not in row for k in keys) for row in rows):
            raise ValueError("insert_rows: every row must give the same fields")
        self.model, self.rows, self.shared = model, rows, shared
        self.plan = _plan(model, tuple(shared), keys, parent_field)
        now = timezone.now()
        self.defaults = {
            field.attname: now if auto_now else field.get_default()
            for field, auto_now in self.plan.defaults
        }
        scalars = [
            field.get_db_prep_save(
                shared[field.attname] if field.attname in shared else self.defaults[field.attname],
                connection,
            )
            for field in self.plan.scalars
        ]
        # Row numbers order the insert: the ids (from the table's sequence) grow with them.
        arrays = [list(range(len(rows)))] + [
            _prepared(field, [row[field.attname] for row in rows]) for field in self.plan.arrays
        ]
        self.params = [*scalars, *arrays]

    def instances(self, ids: list, extra: dict[str, object] | None = None) -> list:
        """The rows' instances, given their ids in row order (and `extra` values they share)."""
        constants = {**self.defaults, **self.shared, **(extra or {})}
        plan = self.plan
        # A dict or list default: each instance its own, as the ORM gives (same value written).
        mutable = [f for f, auto_now in plan.defaults if not auto_now and f.default in (dict, list)]
        instances = []
        for row, pk_value in zip(self.rows, ids, strict=True):
            values = {**constants, **row, **{f.attname: f.get_default() for f in mutable}}
            instance = self.model(
                *(pk_value if f is plan.pk else values[f.attname] for f in plan.fields)
            )
            instance._state.adding = False
            instances.append(instance)
        return instances


def _prepared(field: models.Field, values: list) -> list:
    """`values` as the database takes them (get_db_prep_save), each distinct value prepared
    once: a column of a month's places repeats a few children, days and prices."""
    done: dict = {}
    prepared = []
    for value in values:
        try:
            prepared.append(done[value])
        except KeyError:
            prepared.append(done.setdefault(value, field.get_db_prep_save(value, connection)))
        except TypeError:  # unhashable (a dict for a JSON field): prepared as it comes
            prepared.append(field.get_db_prep_save(value, connection))
    return prepared


@dataclass(frozen=True)
class _Plan:
    pk: models.Field
    fields: list  # every concrete field, the pk included, in the model's order
    defaults: list  # (field, whether it takes "now") of the fields nobody gave
    scalars: list  # fields whose value is the same for every row (given in shared, or default)
    arrays: list  # fields given row by row
    sql: str


@functools.cache
def _plan(
    model: type[models.Model],
    shared: tuple[str, ...],
    keys: tuple[str, ...],
    parent_field: str | None = None,
) -> _Plan:
    """The statement for this model and these given fields, built once per process: the
    columns' types (`db_type`) cost more to work out than the rows to prepare."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    names = {field.attname for field in meta.concrete_fields if field is not pk}
    unknown = (set(shared) | set(keys) | ({parent_field} - {None})) - names
    if unknown:
        raise ValueError(f"insert_rows: {model.__name__} has no field {sorted(unknown)}")
    quote = connection.ops.quote_name
    columns, selects, casts, aliases = [], [], ["%s::integer[]"], ["n"]
    defaults, scalars, arrays = [], [], []
    for field in meta.concrete_fields:
        if field is pk:
            continue
        columns.append(quote(field.column))
        # Strings cast to text, not varchar(n): PostgreSQL cuts an over-long string on an
        # explicit cast to varchar(n), but refuses it (DataError) when assigning it to the column.
        db_type = _SIZED_TEXT.sub("text", field.db_type(connection))
        if field.attname == parent_field:  # the row the statement's WITH inserts
            selects.append(f"(SELECT {quote(field.target_field.column)} FROM parent)")
            continue
        if field.attname in keys and field.attname not in shared:
            if field.get_internal_type() == "ArrayField":
                raise ValueError(f"insert_rows: {field.attname} cannot be given row by row")
            arrays.append(field)
            aliases.append(f"c{len(arrays)}")
            casts.append(f"%s::{db_type}[]")
            selects.append(f"u.{aliases[-1]}")
            continue
        if field.attname not in shared:
            auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            if (
                not auto_now
                and field.has_default()
                and callable(field.default)
                and field.default not in (dict, list)
            ):
                # One value for the whole statement would give every row the same (a uuid4…).
                raise ValueError(
                    f"insert_rows: give {model.__name__}.{field.attname} row by row "
                    "(its default is computed per row)"
                )
            defaults.append((field, auto_now))
        scalars.append(field)
        selects.append(f"%s::{db_type}")
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM unnest({', '.join(casts)}) "
        f"AS u({', '.join(aliases)}) ORDER BY u.n RETURNING {quote(pk.column)}"
    )
    if parent_field is not None:
        fk = next(f for f in meta.concrete_fields if f.attname == parent_field)
        sql += f", {quote(fk.column)}"
    return _Plan(pk, list(meta.concrete_fields), defaults, scalars, arrays, sql)
