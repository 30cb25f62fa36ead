"""Staff rights, checked against the commune of the request on every staff view and endpoint."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from tenants.models import Role
from tenants.selectors import membership_for


def staff_role(request) -> str | None:
    """The user's role in the request's commune (cached on the request), or None."""
    if not hasattr(request, "_staff_role"):
        tenant = getattr(request, "tenant", None)
        membership = membership_for(request.user, tenant) if tenant else None
        request._staff_role = membership.role if membership else None
    return request._staff_role


def staff_required(view=None, *, manager: bool = False):
    """Page decorator: members of this commune only (managers only when `manager`)."""

    def decorator(func):
        @wraps(func)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            role = staff_role(request)
            if role is None or (manager and role != Role.MANAGER):
                raise PermissionDenied
            return func(request, *args, **kwargs)

        return wrapped

    return decorator(view) if view else decorator


class IsCommuneStaff(BasePermission):
    message = "Réservé aux agents de cette commune."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and staff_role(request))


class IsCommuneManager(BasePermission):
    message = "Réservé aux responsables de cette commune."

    def has_permission(self, request, view) -> bool:
        return bool(
            request.user and request.user.is_authenticated and staff_role(request) == Role.MANAGER
        )
