from shared_apps.common.errors import Conflict, DomainError, NotFound


class ProductNotFound(NotFound):
    message = "Prestation introuvable."


class ReservationNotFound(NotFound):
    message = "Réservation introuvable."


class InvalidBooking(DomainError):
    code = "invalid"
    message = "La réservation n’est pas valide."


class ChildNotFound(NotFound):
    """One answer for a child that is another family's, unknown, removed or not enrolled in
    the service: it must not tell which (nor whether that child is booked on a day)."""

    message = "Enfant introuvable ou non inscrit à ce service."


class NotEnrolled(Conflict):
    code = "not_enrolled"
    message = "Cet enfant n’est pas inscrit à ce service : faites d’abord une demande d’accès."


class DayClosed(Conflict):
    code = "day_closed"
    message = "Le service est fermé ce jour-là."


class DeadlinePassed(Conflict):
    code = "deadline_passed"
    message = "Le délai de réservation est dépassé pour ce jour."


class AlreadyBooked(Conflict):
    code = "already_booked"
    message = "Ce jour est déjà réservé pour cet enfant."


class DayFull(Conflict):
    code = "day_full"
    message = "Il n’y a plus de place ce jour-là."


class CartEmpty(Conflict):
    code = "cart_empty"
    message = "Votre panier est vide (ou il a expiré)."


class PaymentMethodRefused(Conflict):
    code = "payment_method_not_accepted"
    message = "Ce moyen de paiement n’est pas proposé par ce service."


class PaymentMethodUnavailable(Conflict):
    code = "payment_method_unavailable"
    message = (
        "Ce moyen de paiement n’est pas disponible pour le moment : choisissez-en un autre. "
        "Votre panier est conservé."
    )


class NotCancellable(Conflict):
    code = "not_cancellable"
    message = "Cette réservation ne peut plus être annulée : le délai est dépassé."
