"""The one way a commune's table refers to a public-schema row (a user, a family, a child).

With hundreds of commune schemas, a database foreign key from each of them to the user or family
table would put thousands of constraints on it, and deleting one row would need a lock per
constraint (lock exhaustion). So the reference carries no database constraint, never cascades
(public rows are anonymised, not deleted) and adds no reverse accessor to the public model, which
cannot know every commune's tables (ARCHITECTURE.md, "Tenancy and routing").
"""

from __future__ import annotations

from django.db import models

_DEFAULTS = {"on_delete": models.DO_NOTHING, "db_constraint": False, "related_name": "+"}


class _PublicReference:
    def __init__(self, to, **kwargs):
        for name, value in _DEFAULTS.items():
            kwargs.setdefault(name, value)
        super().__init__(to, **kwargs)

    def deconstruct(self):
        # The defaults are left out, so migrations say only what a declaration says.
        name, path, args, kwargs = super().deconstruct()
        for key, value in _DEFAULTS.items():
            if key in kwargs and kwargs[key] == value:
                del kwargs[key]
        return name, path, args, kwargs


class PublicRef(_PublicReference, models.ForeignKey):
    """`PublicRef("families.Family")`: a foreign key to a public row, without constraint."""


class PublicOneToOneRef(_PublicReference, models.OneToOneField):
    """`PublicOneToOneRef("families.Family")`: at most one row here per public row."""
