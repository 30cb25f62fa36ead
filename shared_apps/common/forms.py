"""Helpers for server-rendered forms backed by services."""

from __future__ import annotations

from django import forms

from shared_apps.common.errors import DomainError


def add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's error on the form: on its fields when it names them, else on top."""
    placed = False
    for field, messages in error.fields.items():
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)
            placed = True
    if not placed:
        form.add_error(None, error.message)
