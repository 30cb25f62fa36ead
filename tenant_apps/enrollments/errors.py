from shared_apps.common.errors import Conflict, DomainError, NotFound


class RequestNotFound(NotFound):
    message = "Demande introuvable."


class DocumentNotFound(NotFound):
    message = "Document introuvable."


class ServiceNotFound(NotFound):
    message = "Service introuvable."


class InvalidAccessRequest(DomainError):
    code = "invalid"
    message = "La demande n’est pas complète."


class AlreadyRequested(Conflict):
    code = "already_requested"
    message = "Une demande est déjà en cours ou acceptée pour cet enfant et ce service."


class AlreadyDecided(Conflict):
    code = "already_decided"
    message = "Cette demande a déjà reçu une réponse définitive."


class NothingToComplete(Conflict):
    code = "not_awaiting_documents"
    message = "Cette demande n’attend pas de document de votre part."
