"""Checking an uploaded supporting document: its real type (by content), format and size."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from tenant_apps.catalog.models import DocumentType, FileFormat

# Magic numbers: a file is what its first bytes say, whatever its name or declared type.
_SIGNATURES = (
    (FileFormat.PDF, b"%PDF-", "application/pdf"),
    (FileFormat.JPEG, b"\xff\xd8\xff", "image/jpeg"),
    (FileFormat.PNG, b"\x89PNG\r\n\x1a\n", "image/png"),
)
FORMAT_LABELS = {FileFormat.PDF: "PDF", FileFormat.JPEG: "JPEG", FileFormat.PNG: "PNG"}


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    file_format: str
    content_type: str


def _sniff(upload: UploadedFile) -> tuple[str, str] | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for file_format, signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return file_format, content_type
    return None


def _image_is_whole(upload: UploadedFile) -> bool:
    from PIL import Image

    try:
        with Image.open(upload) as image:
            image.verify()
        return True
    except Exception:  # Pillow raises many kinds of errors on a broken image
        return False
    finally:
        upload.seek(0)


def check_document(upload: UploadedFile, document_type: DocumentType) -> CheckedFile | str:
    """The checked file, or a French message saying why it is refused."""
    accepted = " ou ".join(FORMAT_LABELS[f] for f in document_type.accepted_formats)
    max_mb = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
    if upload.size == 0:
        return "Le fichier est vide."
    if upload.size > settings.DOCUMENT_MAX_BYTES:
        return f"Le fichier dépasse {max_mb} Mo. Réduisez-le (photo moins lourde, PDF compressé)."
    sniffed = _sniff(upload)
    if sniffed is None or sniffed[0] not in document_type.accepted_formats:
        return f"Format non accepté : envoyez un fichier {accepted}."
    file_format, content_type = sniffed
    if file_format in (FileFormat.JPEG, FileFormat.PNG) and not _image_is_whole(upload):
        return "L’image est illisible ou incomplète. Reprenez la photo."
    return CheckedFile(upload=upload, file_format=file_format, content_type=content_type)
