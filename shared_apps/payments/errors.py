"""Payment failures, each with a stable code for the API and a French message for parents."""

from __future__ import annotations

from shared_apps.common.errors import Conflict, DomainError, NotFound


class InvalidSignature(DomainError):
    code = "invalid_signature"
    status = 400
    message = "Notification de paiement refusée : signature absente, invalide ou trop ancienne."


class GeneralCreditDisabled(Conflict):
    code = "general_credit_disabled"
    message = (
        "Le crédit « tous services » n’est pas proposé sur cette plateforme : "
        "choisissez le service à recharger."
    )


class UnknownService(DomainError):
    code = "unknown_service"
    status = 400
    message = "Ce service n’existe pas ou ne peut pas être rechargé."


class PaymentProviderUnavailable(DomainError):
    code = "payment_provider_unavailable"
    status = 503
    message = (
        "Le paiement par carte est momentanément indisponible. Réessayez dans quelques minutes : "
        "aucun montant n’a été débité."
    )


class TopUpNotFound(NotFound):
    message = "Rechargement introuvable."


class NotRefundable(Conflict):
    code = "not_refundable"
    message = "Ce paiement ne peut pas être remboursé sur la carte."


class RefundKeyReused(Conflict):
    code = "refund_key_reused"
    message = "Cette clé de remboursement a déjà servi pour un autre remboursement."


class RefundRefused(Conflict):
    code = "refund_refused"
    message = "Le remboursement sur la carte a été refusé : le porte-monnaie n’a pas été débité."
