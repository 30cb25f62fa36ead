"""Domain errors: a stable code for the API and a French message for people."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business failure. Subclasses set `code`, `status` and a default message."""

    code = "invalid"
    status = 400
    message = "La demande n’est pas valide."

    def __init__(self, message: str | None = None, *, fields: dict[str, list[str]] | None = None):
        self.message = message or self.message
        self.fields = fields or {}
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message = "Introuvable."


class Conflict(DomainError):
    code = "conflict"
    status = 409
    message = "Cette action n’est plus possible dans l’état actuel."
