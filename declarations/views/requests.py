"""Declaration requests in the facility cabinet (`/cabinet/declaration-requests/…`).

A doctor or a receptionist creates a request for a registered patient (the doctor and the place of
service of this facility), the patient confirms it — with the SMS code (OTP) or with the scans of their
documents (OFFLINE) — and the patient's doctor signs it in the browser with their key file or with a
`.p7s` made elsewhere: the declaration exists. The printable form, as a page and as PDF, is what the
patient reads.

Rights (registry.permissions, asked through `cabinet_facility`): reading `declaration_request:read`,
creating, uploading and sending the code again `declaration_request:write`, approving
`declaration_request:approve`, rejecting `declaration_request:reject`, signing
`declaration_request:sign` and being the request's doctor. A request of another facility is 404.
Writes are the services' (declarations.services); their refusals are shown at the fields.
"""

import base64
import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registry import permissions
from registry.models import LegalEntity
from registry.selectors import dictionary_value_label
from registry.views.access import cabinet_facility

from .. import selectors, services
from ..forms.errors import add_service_errors
from ..forms.requests import (
    DeclarationRequestCreateForm,
    DeclarationSignForm,
    DocumentUploadForm,
    RequestFilterForm,
    VerificationCodeForm,
)
from ..models import DeclarationRequest, Person
from ..pdf import declaration_form_pdf

READ = "declaration_request:read"
WRITE = "declaration_request:write"
APPROVE = "declaration_request:approve"
REJECT = "declaration_request:reject"
SIGN = "declaration_request:sign"
OTP = "OTP"
OFFLINE = "OFFLINE"
REQUESTS_PER_PAGE = 25
DOCUMENT_FILENAME = "declaration-request-{number}.json"


# --- Create --------------------------------------------------------------------------------------------


@never_cache
@login_required
def request_create(request):
    """`?person=<id>`: the patient; choose the doctor and the place of service, then create."""
    legal_entity = cabinet_facility(request, WRITE)
    person = selectors.person_get(request.GET.get("person"))  # 404 for an unknown or closed record
    form = DeclarationRequestCreateForm(request.POST or None, legal_entity=legal_entity, user=request.user)
    patient_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            declaration_request = services.declaration_request_create_for_person(
                legal_entity=legal_entity,
                actor=request.user,
                person=person,
                employee=form.cleaned_data["employee"],
                division=form.cleaned_data["division"],
            )
        except ValidationError as error:
            patient_errors = add_service_errors(
                form,
                error,
                DeclarationRequestCreateForm.SERVICE_FIELDS,
                fields_by_code=DeclarationRequestCreateForm.SERVICE_CODES,
            )
        else:
            messages.success(request, _created_message(declaration_request))
            return redirect("declarations:request-detail", request_id=declaration_request.pk)
    return render(
        request,
        "declarations/requests/new.html",
        {
            "legal_entity": legal_entity,
            "person": person,
            "form": form,
            "patient_errors": patient_errors,
            "patient_edit_url": _patient_url("declarations:patient-edit", person),
            "patient_url": _patient_url("declarations:patient-detail", person),
            "authentication_phone": _masked_phone(person.authentication_phone),
        },
    )


def _created_message(declaration_request: DeclarationRequest) -> str:
    method = (declaration_request.authentication_method_current or {}).get("type")
    if method == OTP:
        return _("The request is created. The patient received an SMS code: enter it below.")
    if method == OFFLINE:
        return _("The request is created. Upload the scans of the patient's documents below.")
    return _("The request is created.")


def _patient_url(name: str, person: Person | None) -> str:
    """The patient's page (none before a request made through the API is signed: not registered yet)."""
    return reverse(name, kwargs={"person_id": person.pk}) if person is not None else ""


# --- List and detail -------------------------------------------------------------------------------


@never_cache
@login_required
def request_list(request):
    legal_entity = cabinet_facility(request, READ)
    form = RequestFilterForm(request.GET or None)
    status = form.cleaned_data.get("status") if form.is_valid() else None
    requests = selectors.declaration_request_list(legal_entity=legal_entity, status=status or None)
    page = Paginator(requests, REQUESTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "declarations/requests/list.html",
        {
            "legal_entity": legal_entity,
            "form": form,
            "page": page,
            "is_filtered": bool(status),
            "query": urlencode({"status": status}) if status else "",
        },
    )


@never_cache
@login_required
def request_detail(request, request_id):
    legal_entity = cabinet_facility(request, READ)
    declaration_request = _request_or_404(legal_entity, request_id)
    return _detail_page(request, legal_entity, declaration_request)


def _request_or_404(legal_entity: LegalEntity, request_id) -> DeclarationRequest:
    """The facility's request; another facility's is as unknown as a missing one."""
    declaration_request = selectors.declaration_request_get(
        legal_entity=legal_entity, declaration_request_id=request_id
    )
    if declaration_request is None:
        raise Http404
    return declaration_request


def _detail_page(request, legal_entity, declaration_request, **forms):
    """The request's page with the forms its status and the person's rights allow; `forms` replaces
    one of them with the bound form just refused (its errors at its fields)."""
    scopes = permissions.scopes_of(request.user, legal_entity)
    is_new = declaration_request.status == DeclarationRequest.Status.NEW
    method = (declaration_request.authentication_method_current or {}).get("type", "")
    context = {
        "legal_entity": legal_entity,
        "declaration_request": declaration_request,
        "person_data": (declaration_request.data or {}).get("person") or {},
        "method": method,
        "authentication_phone": _masked_phone(
            (declaration_request.authentication_method_current or {}).get("number")
        ),
        "scopes": scopes,
        "submit_errors": forms.pop("submit_errors", []),
        "patient_url": _patient_url("declarations:patient-detail", declaration_request.person),
        "declaration_url": _declaration_url(declaration_request),
    }
    if is_new and method == OTP and APPROVE in scopes:
        context["code_form"] = forms.get("code_form") or VerificationCodeForm()
        context["can_resend"] = WRITE in scopes
    if is_new and declaration_request.documents:  # OFFLINE, or a patient without an RNOKPP (any method)
        documents = _documents(declaration_request, upload_form=forms.get("upload_form"))
        context["documents"] = documents
        context["can_upload"] = WRITE in scopes
        context["all_uploaded"] = all(item["upload"] is not None for item in documents)
        context["can_approve_offline"] = method == OFFLINE and APPROVE in scopes
    if is_new and method not in (OTP, OFFLINE):
        context["can_approve_plain"] = APPROVE in scopes
    context["can_reject"] = declaration_request.status in DeclarationRequest.PENDING and REJECT in scopes
    if _may_sign(request.user, scopes, declaration_request):
        context.update(_sign_context(declaration_request, forms.get("sign_form")))
    return render(request, "declarations/requests/detail.html", context)


def _masked_phone(number) -> str:
    """+380671112233 → +38067*****33 (eHealth's urgent.authentication_method_current)."""
    return services.phone_masked(str(number or ""))


def _declaration_url(declaration_request: DeclarationRequest) -> str:
    if declaration_request.status != DeclarationRequest.Status.SIGNED:
        return ""
    return reverse(
        "declarations:declaration-detail", kwargs={"declaration_id": declaration_request.declaration_id}
    )


def _documents(declaration_request: DeclarationRequest, *, upload_form=None) -> list[dict]:
    """Each scan the request lists: its label, what is uploaded, the form to upload it."""
    uploads = {upload.type: upload for upload in declaration_request.uploads.all()}
    items = []
    for document_type in document_types(declaration_request):
        form = upload_form if upload_form is not None and upload_form.document_type == document_type else None
        items.append(
            {
                "type": document_type,
                "label": document_label(document_type),
                "upload": uploads.get(document_type),
                "form": form or DocumentUploadForm(document_type=document_type),
            }
        )
    return items


def document_types(declaration_request: DeclarationRequest) -> list[str]:
    """The scan types the request lists (eHealth's `urgent.documents[].type`)."""
    return list(declaration_request.documents or [])


def document_label(document_type: str) -> str:
    """ "person.PASSPORT" → "The patient's document: Паспорт"; the type itself when the portal does not
    know it."""
    owner, _dot, kind = document_type.partition(".")
    if owner == "person":
        if kind == "DECLARATION_FORM":
            return _("The declaration form signed by the patient")
        if kind == "SSN":
            return _("The patient's RNOKPP card")
        label = dictionary_value_label(name="DOCUMENT_TYPE", key=kind)
        return _("The patient's document: %(document)s") % {"document": label or kind}
    if owner == "confidant_person":
        relationship_kind = document_type.rsplit(".", 1)[-1]
        label = dictionary_value_label(name="DOCUMENT_RELATIONSHIP_TYPE", key=relationship_kind)
        if ".RELATIONSHIP." in document_type:
            return _("The confidant person's document of the relationship: %(document)s") % {
                "document": label or relationship_kind
            }
        label = dictionary_value_label(name="DOCUMENT_TYPE", key=relationship_kind)
        return _("The confidant person's document: %(document)s") % {"document": label or relationship_kind}
    return document_type


# --- The patient's confirmation --------------------------------------------------------------------


@require_POST
@login_required
def request_approve(request, request_id):
    """Approve with the SMS code (OTP), or once the scans are uploaded (OFFLINE)."""
    legal_entity = cabinet_facility(request, APPROVE)
    declaration_request = _request_or_404(legal_entity, request_id)
    method = (declaration_request.authentication_method_current or {}).get("type")
    code_form, code = None, None
    if method == OTP:
        code_form = VerificationCodeForm(request.POST)
        if not code_form.is_valid():
            return _detail_page(request, legal_entity, declaration_request, code_form=code_form)
        code = code_form.cleaned_data["code"]
    try:
        services.declaration_request_approve(
            declaration_request=declaration_request, actor=request.user, verification_code=code
        )
    except ValidationError as error:
        # The code's problems at the code; the doctor's limit, missing scans, the state: above.
        others = add_service_errors(code_form or VerificationCodeForm(), error, {"verification_code": "code"})
        return _detail_page(
            request, legal_entity, _fresh(declaration_request), code_form=code_form, submit_errors=others
        )
    messages.success(request, _("The patient confirmed the request. Now the doctor signs it."))
    return redirect("declarations:request-detail", request_id=declaration_request.pk)


@require_POST
@login_required
def request_resend_code(request, request_id):
    legal_entity = cabinet_facility(request, WRITE)
    declaration_request = _request_or_404(legal_entity, request_id)
    try:
        services.declaration_request_resend_otp(declaration_request=declaration_request, actor=request.user)
    except ValidationError as error:
        code_form = VerificationCodeForm()
        others = add_service_errors(
            code_form, error, {"phone_number": "code"}, fields_by_code={"too_many_codes": "code"}
        )
        return _detail_page(
            request, legal_entity, declaration_request, code_form=code_form, submit_errors=others
        )
    messages.success(request, _("A new code is sent to the patient. The previous one no longer works."))
    return redirect("declarations:request-detail", request_id=declaration_request.pk)


@require_POST
@login_required
def request_document_upload(request, request_id):
    legal_entity = cabinet_facility(request, WRITE)
    declaration_request = _request_or_404(legal_entity, request_id)
    document_type = request.POST.get("document_type", "")
    if document_type not in document_types(declaration_request):
        raise Http404  # not a document this request lists
    form = DocumentUploadForm(request.POST, request.FILES, document_type=document_type)
    others: list[str] = []
    if form.is_valid():
        try:
            services.declaration_request_document_upload(
                declaration_request=declaration_request,
                actor=request.user,
                type=document_type,
                file=form.cleaned_data["file"],
            )
        except ValidationError as error:
            others = add_service_errors(form, error, {"file": "file", "type": "file"})
        else:
            messages.success(
                request,
                _("The scan is uploaded: %(document)s.") % {"document": document_label(document_type)},
            )
            return redirect("declarations:request-detail", request_id=declaration_request.pk)
    return _detail_page(
        request, legal_entity, _fresh(declaration_request), upload_form=form, submit_errors=others
    )


def _fresh(declaration_request: DeclarationRequest) -> DeclarationRequest:
    """The request as stored now (a refusal may come from a change made meanwhile)."""
    declaration_request.refresh_from_db()
    return declaration_request


@never_cache
@login_required
def request_reject(request, request_id):
    """A confirmation page; its POST rejects the request."""
    legal_entity = cabinet_facility(request, REJECT)
    declaration_request = _request_or_404(legal_entity, request_id)
    if declaration_request.status not in DeclarationRequest.PENDING:
        messages.error(request, _("Only a request waiting for the patient or the doctor can be rejected."))
        return redirect("declarations:request-detail", request_id=declaration_request.pk)
    errors: list[str] = []
    if request.method == "POST":
        try:
            services.declaration_request_reject(declaration_request=declaration_request, actor=request.user)
        except ValidationError as error:
            errors = error.messages
        else:
            messages.success(request, _("The request is rejected."))
            return redirect("declarations:request-detail", request_id=declaration_request.pk)
    return render(
        request,
        "declarations/requests/reject.html",
        {"legal_entity": legal_entity, "declaration_request": declaration_request, "errors": errors},
    )


# --- The doctor's signature --------------------------------------------------------------------------


def _may_sign(user, scopes, declaration_request: DeclarationRequest) -> bool:
    """The request waits for its own doctor's signature, and this is that doctor."""
    return (
        declaration_request.status == DeclarationRequest.Status.APPROVED
        and SIGN in scopes
        and declaration_request.employee.party.user_id == user.pk
    )


def _sign_context(declaration_request: DeclarationRequest, form=None) -> dict:
    document = services.declaration_request_signable_bytes(declaration_request)
    return {
        "sign_form": form or DeclarationSignForm(),
        "document": document.decode(),
        "document_base64": base64.b64encode(document).decode(),
        "document_sha256": hashlib.sha256(document).hexdigest(),
        "document_filename": DOCUMENT_FILENAME.format(number=declaration_request.declaration_number),
        "document_url": reverse(
            "declarations:request-document", kwargs={"request_id": declaration_request.pk}
        ),
        "expected_drfo": declaration_request.employee.party.tax_id,
    }


@never_cache
@login_required
def request_document(request, request_id):
    """The exact document the doctor signs (canonical JSON), as a download."""
    legal_entity = cabinet_facility(request, SIGN)
    declaration_request = _request_or_404(legal_entity, request_id)
    if not _may_sign(request.user, permissions.scopes_of(request.user, legal_entity), declaration_request):
        raise Http404
    response = HttpResponse(
        services.declaration_request_signable_bytes(declaration_request),
        content_type="application/json; charset=utf-8",
    )
    filename = DOCUMENT_FILENAME.format(number=declaration_request.declaration_number)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@login_required
def request_sign(request, request_id):
    legal_entity = cabinet_facility(request, SIGN)
    declaration_request = _request_or_404(legal_entity, request_id)
    if not _may_sign(request.user, permissions.scopes_of(request.user, legal_entity), declaration_request):
        messages.error(request, _("Only the request's doctor signs it, once the patient has confirmed it."))
        return redirect("declarations:request-detail", request_id=declaration_request.pk)
    form = DeclarationSignForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail_page(request, legal_entity, declaration_request, sign_form=form)
    document = services.declaration_request_signable_bytes(declaration_request)
    if form.cleaned_data.get("document_sha256") != hashlib.sha256(document).hexdigest():
        form.add_error(
            "signature", _("The request changed since this page was shown. Check it and sign it again.")
        )
        return _detail_page(request, legal_entity, declaration_request, sign_form=form)
    try:
        declaration = services.declaration_request_sign(
            declaration_request=declaration_request,
            actor=request.user,
            signed_envelope=form.cleaned_data["signed_envelope"],
        )
    except ValidationError as error:
        # The signature's problems at the signature; the state (signed meanwhile), the signer: above.
        others = add_service_errors(form, error, {services.SIGNED_FIELD: "signature"})
        return _detail_page(
            request, legal_entity, _fresh(declaration_request), sign_form=form, submit_errors=others
        )
    messages.success(
        request,
        _("The declaration No. %(number)s is signed: %(status)s.")
        % {"number": declaration.declaration_number, "status": declaration.get_status_display()},
    )
    return redirect("declarations:request-detail", request_id=declaration_request.pk)


# --- The printable form ----------------------------------------------------------------------------


@never_cache
@login_required
def request_form(request, request_id):
    """The declaration form alone, for printing (A4, print styles)."""
    legal_entity = cabinet_facility(request, READ)
    declaration_request = _request_or_404(legal_entity, request_id)
    return render(
        request,
        "declarations/requests/form.html",
        {"legal_entity": legal_entity, "declaration_request": declaration_request},
    )


@never_cache
@login_required
def request_form_pdf(request, request_id):
    legal_entity = cabinet_facility(request, READ)
    declaration_request = _request_or_404(legal_entity, request_id)
    response = HttpResponse(declaration_form_pdf(declaration_request), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="declaration-{declaration_request.declaration_number}.pdf"'
    )
    return response


urlpatterns = [
    path("cabinet/declaration-requests/", request_list, name="request-list"),
    path("cabinet/declaration-requests/new/", request_create, name="request-new"),
    path("cabinet/declaration-requests/<uuid:request_id>/", request_detail, name="request-detail"),
    path("cabinet/declaration-requests/<uuid:request_id>/approve/", request_approve, name="request-approve"),
    path(
        "cabinet/declaration-requests/<uuid:request_id>/resend-code/",
        request_resend_code,
        name="request-resend-code",
    ),
    path(
        "cabinet/declaration-requests/<uuid:request_id>/documents/",
        request_document_upload,
        name="request-upload",
    ),
    path("cabinet/declaration-requests/<uuid:request_id>/reject/", request_reject, name="request-reject"),
    path(
        "cabinet/declaration-requests/<uuid:request_id>/document.json",
        request_document,
        name="request-document",
    ),
    path("cabinet/declaration-requests/<uuid:request_id>/sign/", request_sign, name="request-sign"),
    path("cabinet/declaration-requests/<uuid:request_id>/form/", request_form, name="request-form"),
    path(
        "cabinet/declaration-requests/<uuid:request_id>/form.pdf", request_form_pdf, name="request-form-pdf"
    ),
]
