from shared_apps.common.errors import Conflict, NotFound


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


class MandateSetupUnavailable(Conflict):
    """The platform has no payment provider configured: nothing can be set up (not a failure
    of the moment — the provider unreachable is PaymentProviderUnavailable, 503)."""

    code = "direct_debit_unavailable"
    message = (
        "La mise en place du prélèvement n’est pas disponible pour le moment : payez vos "
        "réservations avec le porte-monnaie ou par carte."
    )


class InvoiceNotFound(NotFound):
    message = "Facture introuvable."
