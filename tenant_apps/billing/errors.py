from shared_apps.common.errors import Conflict, DomainError, NotFound


class MandateNotFound(NotFound):
    message = "Mandat de prélèvement introuvable."


class NoActiveMandate(Conflict):
    code = "no_active_mandate"
    message = (
        "Le prélèvement demande un mandat SEPA actif auprès de la commune : mettez en place "
        "votre mandat (rubrique « Prélèvement »), ou choisissez un autre moyen de paiement. "
        "Votre panier est conservé."
    )


class MandateNotRevocable(Conflict):
    code = "mandate_not_revocable"
    message = "Ce mandat n’est plus actif : il n’y a rien à révoquer."


class MandateSetupUnavailable(DomainError):
    code = "provider_unavailable"
    status = 503
    message = (
        "La mise en place du prélèvement n’est pas disponible pour le moment : réessayez plus tard."
    )


class InvoiceNotFound(NotFound):
    message = "Facture introuvable."
