"""The scans an OFFLINE patient brings for a declaration request (ehealth-api.md §4.3 step 8).

A scan is JPEG, PNG or PDF — told by its first bytes, never by its name or the browser's content type —
of at most `DECLARATION_SCAN_MAX_BYTES`, of a type the request lists; stored through the FileField (the
configured Django storage) and replacing an earlier scan of the same type. The replaced file is deleted
once the transaction commits, so a rolled-back upload never loses the scan it would have replaced.
"""

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from ehealth_portal.history import acting_as

from ..models import DeclarationRequest, DeclarationRequestDocument
from .requests import _error, request_still_valid

# (first bytes, content type, extension)
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"%PDF-", "application/pdf", "pdf"),
)


def scan_kind(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or PDF by its first bytes; None for anything else."""
    return next(((kind, extension) for magic, kind, extension in SIGNATURES if head.startswith(magic)), None)


def _read_limited(file, limit: int) -> bytes:
    """At most limit + 1 bytes of the upload: enough to tell it is too large without reading it all."""
    if hasattr(file, "seek"):
        file.seek(0)
    chunks, size = [], 0
    reader = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(64 * 1024), b"")
    for chunk in reader:
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)


def declaration_request_document_upload(
    *,
    declaration_request: DeclarationRequest,
    actor,
    type: str,
    file,  # noqa: A002 - eHealth's name
) -> DeclarationRequestDocument:
    """Store the scan of one listed document of a NEW request; refused at "type" or "file" (nothing stored),
    or "invalid_transition" (409) once the request is no longer waiting for the patient."""
    if type not in declaration_request.documents:
        raise _error("type", _("This request does not ask for a scan of this document."), "document_type")
    limit = settings.DECLARATION_SCAN_MAX_BYTES
    content = _read_limited(file, limit)
    if len(content) > limit:
        raise _error(
            "file",
            _("The file is larger than %(megabytes)s MB.") % {"megabytes": round(limit / 1024 / 1024, 1)},
            "file_too_large",
        )
    kind = scan_kind(content[:16])
    if not content or kind is None:
        raise _error("file", _("Upload a JPEG, PNG or PDF file."), "file_type")
    content_type, extension = kind
    with transaction.atomic(), acting_as(actor):
        locked = DeclarationRequest.objects.select_for_update().get(pk=declaration_request.pk)
        if locked.status != DeclarationRequest.Status.NEW:
            raise _error(
                "status",
                _("Scans are uploaded while the request waits for the patient's confirmation."),
                "invalid_transition",
            )
        request_still_valid(locked)
        upload = DeclarationRequestDocument.objects.filter(declaration_request=locked, type=type).first()
        replaced = upload.file.name if upload else None
        upload = upload or DeclarationRequestDocument(declaration_request=locked, type=type)
        upload.content_type = content_type
        upload.size = len(content)
        upload.uploaded_by = actor
        name = f"declaration_request_{type.replace('.', '_')}.{extension}"
        upload.file.save(name, ContentFile(content), save=False)
        stored = upload.file.name
        try:
            upload.save()
        except Exception:
            _delete_files([stored])  # the row was not written: its new file must not stay behind
            raise
        transaction.on_commit(lambda: _delete_files([replaced] if replaced and replaced != stored else []))
    return upload


def _delete_files(names) -> None:
    storage = DeclarationRequestDocument._meta.get_field("file").storage
    for name in names:
        if name:
            storage.delete(name)


def declaration_request_documents_delete(*, declaration_request_ids) -> int:
    """Delete the scans of these requests (expired: the patient's documents are not kept for nothing);
    the files go once the transaction commits."""
    uploads = DeclarationRequestDocument.objects.filter(declaration_request_id__in=declaration_request_ids)
    names = list(uploads.values_list("file", flat=True))
    deleted, _by_model = uploads.delete()
    transaction.on_commit(lambda: _delete_files(names))
    return deleted
