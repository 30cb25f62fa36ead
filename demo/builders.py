"""An enrolled family, made through the real use cases: the demo, the tests and the benchmarks
all enrol families this one way (submit the access request with the documents the service asks
for, then accept it as an agent), never by writing enrolment rows themselves."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django_tenants.utils import tenant_context

from tenant_apps.enrollments.services import decide_access_request, submit_access_request

if TYPE_CHECKING:
    from shared_apps.accounts.models import User
    from shared_apps.families.models import Child
    from tenant_apps.catalog.models import Service
    from tenant_apps.enrollments.models import AccessRequest
    from tenants.models import Commune


def demo_pdf() -> bytes:
    """The smallest PDF our upload checks accept (magic bytes)."""
    return b"%PDF-1.4\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n"


def demo_png() -> bytes:
    """A real PNG (Pillow verifies uploaded images)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 320), "white")
    ImageDraw.Draw(image).text((20, 20), "Justificatif de domicile (démo)", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def documents_for(service: Service) -> dict[str, UploadedFile]:
    """One file per document type the service asks for, in a format it accepts."""
    files: dict[str, UploadedFile] = {}
    for document_type in service.document_types.all():
        if "png" in document_type.accepted_formats and "domicile" in document_type.code:
            files[document_type.code] = SimpleUploadedFile("domicile.png", demo_png(), "image/png")
        elif "pdf" in document_type.accepted_formats:
            files[document_type.code] = SimpleUploadedFile(
                f"{document_type.code}.pdf", demo_pdf(), "application/pdf"
            )
        elif "png" in document_type.accepted_formats:
            files[document_type.code] = SimpleUploadedFile(
                f"{document_type.code}.png", demo_png(), "image/png"
            )
    return files


def enrol_family(
    *,
    commune: Commune,
    service: Service,
    parent: User,
    children: Sequence[Child],
    decided_by: User | None = None,
) -> AccessRequest:
    """`parent` asks `commune` for `service` for `children` (with the documents the service asks
    for) and, unless `decided_by` is None (the request then waits), that agent accepts it: the
    children are enrolled as through the pages. Returns the access request."""
    with tenant_context(commune):
        request = submit_access_request(
            commune=commune,
            user=parent,
            service_id=service.pk,
            child_ids=[child.pk for child in children],
            files=documents_for(service),
        )
        if decided_by is None:
            return request
        return decide_access_request(
            staff_user=decided_by, commune=commune, request_id=request.pk, decision="accept"
        )
