"""Access requests (guide step 3): a family asks for a service, staff decide, children enrol.

Each use case takes its commune (the request's, or a task's) and runs on its schema only; ids
and values arrive parsed (serializers, forms).
"""

from __future__ import annotations

import contextlib

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.celery import enqueue_on_commit
from shared_apps.accounts.models import User
from shared_apps.audit.services import record
from shared_apps.common.validation import FieldErrors
from shared_apps.families.selectors import children_of, family_id_of
from shared_apps.families.services import note_commune
from tenant_apps.catalog.models import DocumentType, Service
from tenant_apps.enrollments.errors import (
    AlreadyDecided,
    AlreadyRequested,
    InvalidAccessRequest,
    NothingToComplete,
    RequestNotFound,
    ServiceNotFound,
)
from tenant_apps.enrollments.models import (
    AccessRequest,
    AccessRequestChild,
    Document,
    Enrollment,
    RequestStatus,
)
from tenant_apps.enrollments.uploads import CheckedFile, check_document
from tenants.models import Commune
from tenants.services import assert_on_schema

OPEN_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.INFO_REQUESTED)
MAX_CHILDREN_PER_REQUEST = 20


class Decision:
    ACCEPT = "accept"
    REJECT = "reject"
    REQUEST_INFO = "request_info"
    ALL = (ACCEPT, REJECT, REQUEST_INFO)


def _check_files(
    document_types: list[DocumentType], files: dict, errors: FieldErrors, *, require_all: bool
) -> dict[int, CheckedFile]:
    """Every file checked before anything is stored: a refused file leaves nothing behind.

    A file the service does not ask for refuses the request before any file is read, so the
    work done never grows with what a client sends (one file per document type at most)."""
    by_code = {dt.code: dt for dt in document_types}
    unknown = [code for code in files if code not in by_code]
    if unknown:
        for code in unknown[: len(by_code) + 1]:
            errors.add(str(code)[:40], "Ce service ne demande pas cette pièce.")
        return {}
    checked: dict[int, CheckedFile] = {}
    for document_type in document_types:
        upload = files.get(document_type.code)
        if upload is None:
            if require_all and document_type.required:
                errors.add(document_type.code, f"{document_type.label} : pièce obligatoire.")
            continue
        result = check_document(upload, document_type)
        if isinstance(result, str):
            errors.add(document_type.code, f"{document_type.label} : {result}")
        else:
            checked[document_type.pk] = result
    return checked


def _store_documents(
    access_request: AccessRequest,
    checked: dict[int, CheckedFile],
    user: User,
    stored: list[Document],
) -> None:
    """Save the checked files, appending each to `stored` so a failure can remove them."""
    for document_type_id, checked_file in checked.items():
        document = Document(
            access_request=access_request,
            document_type_id=document_type_id,
            original_name=(checked_file.upload.name or "document")[:255],
            content_type=checked_file.content_type,
            size=checked_file.upload.size or 0,
            uploaded_by=user,
        )
        document.file.save("upload", checked_file.upload, save=False)
        stored.append(document)
        document.save()


def _remove_files(documents: list[Document]) -> None:
    for document in documents:
        with contextlib.suppress(OSError):
            if document.file.name:
                document.file.storage.delete(document.file.name)


def submit_access_request(
    *,
    commune: Commune,
    user: User,
    service_id: int,
    child_ids: list[int],
    files: dict[str, UploadedFile],
) -> AccessRequest:
    """A family asks for a service for some of its children, with the required documents."""
    assert_on_schema(commune)
    service = Service.objects.filter(pk=service_id, is_active=True).first()
    if service is None:
        raise ServiceNotFound()
    errors = FieldErrors()
    if len(child_ids) > MAX_CHILDREN_PER_REQUEST:
        raise InvalidAccessRequest(
            f"{MAX_CHILDREN_PER_REQUEST} enfants au plus par demande.",
            fields={"children": ["Trop d’enfants."]},
        )
    wanted = set(child_ids)
    children = list(children_of(user).filter(pk__in=wanted)) if wanted else []
    if not wanted:
        errors.add("children", "Choisissez au moins un enfant.")
    elif len(children) != len(wanted):
        errors.add("children", "Enfant inconnu dans votre famille.")
    document_types = list(service.document_types.all())
    checked = _check_files(document_types, files, errors, require_all=True)
    errors.raise_if_any("La demande n’est pas complète : voyez les champs signalés.")

    family_id = family_id_of(user)
    assert family_id is not None  # children_of(user) found some: the user has a family
    child_ids = [c.pk for c in children]
    busy = (
        AccessRequestChild.objects.filter(
            child_id__in=child_ids,
            access_request__service=service,
            access_request__status__in=(*OPEN_STATUSES, RequestStatus.ACCEPTED),
        ).exists()
        or Enrollment.objects.filter(service=service, child_id__in=child_ids).exists()
    )
    if busy:
        raise AlreadyRequested()

    stored: list[Document] = []
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(
                service=service, family_id=family_id, submitted_by=user
            )
            AccessRequestChild.objects.bulk_create(
                AccessRequestChild(access_request=access_request, child_id=pk) for pk in child_ids
            )
            _store_documents(access_request, checked, user, stored)
            note_commune(family_id=family_id, commune=commune)
    except Exception:
        _remove_files(stored)  # the rows are rolled back: the files must go too
        raise
    return access_request


def _family_request(user: User, request_id: int) -> AccessRequest:
    family_id = family_id_of(user)
    access_request = (
        None
        if family_id is None
        else AccessRequest.objects.filter(pk=request_id, family_id=family_id).first()
    )
    if access_request is None:
        raise RequestNotFound()
    return access_request


def complete_access_request(
    *, commune: Commune, user: User, request_id: int, files: dict[str, UploadedFile]
) -> AccessRequest:
    """The family sends the documents staff asked for; the request goes back to the queue."""
    assert_on_schema(commune)
    access_request = _family_request(user, request_id)
    if access_request.status != RequestStatus.INFO_REQUESTED:
        raise NothingToComplete()
    errors = FieldErrors()
    document_types = list(access_request.service.document_types.all())
    checked = _check_files(document_types, files, errors, require_all=False)
    if not files:
        errors.add("files", "Ajoutez au moins un document.")
    errors.raise_if_any("Document refusé : voyez les champs signalés.")
    stored: list[Document] = []
    try:
        with transaction.atomic():
            locked = AccessRequest.objects.select_for_update().get(pk=access_request.pk)
            if locked.status != RequestStatus.INFO_REQUESTED:
                raise NothingToComplete()
            Document.objects.filter(
                access_request=locked,
                document_type_id__in=list(checked),
                replaced_at__isnull=True,
            ).update(replaced_at=timezone.now())
            _store_documents(locked, checked, user, stored)
            locked.status = RequestStatus.SUBMITTED
            locked.save(update_fields=["status", "updated_at"])
    except Exception:
        _remove_files(stored)
        raise
    return locked


def decide_access_request(
    *,
    staff_user: User,
    commune: Commune,
    request_id: int,
    decision: str,
    reason: str = "",
    document_code: str = "",
) -> AccessRequest:
    """Accept (children enrol), reject (with a reason) or ask for more information."""
    assert_on_schema(commune)
    errors = FieldErrors()
    reason = (reason or "").strip()
    if decision not in Decision.ALL:
        errors.add("decision", "Décision attendue : accepter, refuser ou demander un complément.")
    if decision in (Decision.REJECT, Decision.REQUEST_INFO) and not reason:
        errors.add("reason", "Indiquez le motif : la famille le recevra par e-mail.")
    if len(reason) > 2000:
        errors.add("reason", "Motif : 2000 caractères au maximum.")
    errors.raise_if_any()

    with transaction.atomic():
        access_request = AccessRequest.objects.select_for_update().filter(pk=request_id).first()
        if access_request is None:
            raise RequestNotFound()
        if access_request.status not in OPEN_STATUSES:
            raise AlreadyDecided()
        info_type = None
        if decision == Decision.REQUEST_INFO and document_code:
            info_type = access_request.service.document_types.filter(code=document_code).first()
            if info_type is None:
                raise InvalidAccessRequest(fields={"document_code": ["Pièce inconnue."]})
        access_request.status = {
            Decision.ACCEPT: RequestStatus.ACCEPTED,
            Decision.REJECT: RequestStatus.REJECTED,
            Decision.REQUEST_INFO: RequestStatus.INFO_REQUESTED,
        }[decision]
        access_request.reason = reason
        access_request.info_document_type = info_type
        access_request.decided_by = staff_user
        access_request.decided_at = timezone.now()
        access_request.save()
        if decision == Decision.ACCEPT:
            _enrol_children(access_request)
        record(
            actor=staff_user,
            commune=commune,
            action=f"access_request.{decision}",
            target_type="access_request",
            target_id=access_request.pk,
            family_id=access_request.family_id,
            details={"reason": reason, "document_code": document_code or None},
        )
        from tenant_apps.enrollments.tasks import send_decision_email_task

        enqueue_on_commit(send_decision_email_task, commune.schema_name, access_request.pk)
    return access_request


def _enrol_children(access_request: AccessRequest) -> None:
    existing = set(
        Enrollment.objects.filter(service=access_request.service_id).values_list(
            "child_id", flat=True
        )
    )
    try:
        Enrollment.objects.bulk_create(
            Enrollment(
                service_id=access_request.service_id,
                child_id=link.child_id,
                family_id=access_request.family_id,
                access_request=access_request,
            )
            for link in access_request.request_children.all()
            if link.child_id not in existing
        )
    except IntegrityError as exc:  # enrolled concurrently by another request: already done
        raise AlreadyDecided("Cet enfant est déjà inscrit à ce service.") from exc


def note_staff_access(
    *, staff_user: User, commune: Commune, family_id: int, what: str, target_id: int
) -> None:
    """Every staff look at a family's data goes to the audit log (who, when, what)."""
    assert_on_schema(commune)
    record(
        actor=staff_user,
        commune=commune,
        action=f"{what}.view",
        target_type=what,
        target_id=target_id,
        family_id=family_id,
    )


def set_quotient_familial(
    *, staff_user: User, commune: Commune, family_id: int, quotient: int | None
) -> None:
    """Staff record the family's QF read from its CAF certificate (None: unknown); prices
    follow it. `quotient` is parsed at the edge (forms.parse_quotient_familial)."""
    from tenant_apps.enrollments.models import FamilyProfile

    assert_on_schema(commune)
    if not AccessRequest.objects.filter(family_id=family_id).exists():
        raise RequestNotFound()
    FamilyProfile.objects.update_or_create(
        family_id=family_id,
        defaults={"quotient_familial": quotient, "set_by": staff_user, "set_at": timezone.now()},
    )
    record(
        actor=staff_user,
        commune=commune,
        action="family.quotient_familial",
        target_type="family",
        target_id=family_id,
        family_id=family_id,
        details={"quotient_familial": quotient},
    )
