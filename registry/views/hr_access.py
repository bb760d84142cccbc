"""The head grants HR access (`/cabinet/staff/hr-access/`): the HR officer's data, then the signed request.

Only the facility's head (the OWNER role, with `employee_request:write`) opens these pages. What is
typed stays in the session (`SignedReviewWizard`, one draft per facility) until the signed submit; the
review shows eHealth's employee request (HR) in words and as the exact canonical JSON the head signs, in
the browser (static/js/registration-sign.js) or with any tool (`.p7s`). Submit →
`services.employee_request_create` (signature and signer checked over exactly that document, the
facility's checks) → the invitation email to the HR officer.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from .. import permissions, selectors, services
from ..forms import raw_step_data
from ..forms.staff_hr import HR, HR_ACCESS_STEPS, STEP_PERSON, STEP_REVIEW, HrPersonForm, hr_request_payload
from ..models import EmployeeRequest, LegalEntity, Party
from ..payloads import payload_canonical
from ..selectors import OWNER
from ..services.staff import SIGNED_FIELD  # where employee_request_create puts the signature's problems
from ..wizard import SignedReviewWizard
from .access import cabinet_facility

SCOPE = "employee_request:write"
SESSION_SENT = "registry:hr-access-sent"  # the request just sent, for the confirmation page
FACILITY_KEY = "legal_entity"  # the wizard's extra data: whose draft it is


def head_facility(request) -> LegalEntity:
    """The cabinet's facility if the signed-in person is its head; otherwise 403."""
    legal_entity = cabinet_facility(request, SCOPE)
    if OWNER not in permissions.roles_of(request.user, legal_entity):
        raise PermissionDenied  # HR and administrators invite others, but HR access is the head's to grant
    return legal_entity


@method_decorator([never_cache, login_required], name="dispatch")
class HrAccessWizard(SignedReviewWizard):
    form_list = HR_ACCESS_STEPS
    title = gettext_lazy("Grant HR access")
    step_titles = {STEP_PERSON: gettext_lazy("HR officer"), STEP_REVIEW: gettext_lazy("Review and sign")}
    template_name = "registry/staff/hr_access.html"
    document_filename = "hr-employee-request.json"  # at /cabinet/staff/hr-access/document/
    document_changed_message = gettext_lazy(
        "The data changed since this page was shown. Check it and sign the request again."
    )

    def dispatch(self, request, *args, **kwargs):
        self.legal_entity = head_facility(request)  # before anything is read or kept
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        self._draft_of_this_facility()
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        self._draft_of_this_facility()
        return super().post(*args, **kwargs)

    def _draft_of_this_facility(self) -> None:
        """A draft typed for another facility (the head switched cabinets) is not carried over."""
        if self.storage.extra_data.get(FACILITY_KEY) != str(self.legal_entity.pk):
            self.storage.reset()
            self.storage.extra_data = {FACILITY_KEY: str(self.legal_entity.pk)}

    # --- The document and the review ---------------------------------------------------------------

    def document_from_steps(self, cleaned_by_step: dict[str, dict]) -> tuple[dict, bytes]:
        """The HR request built from step 1 and its canonical JSON."""
        payload = hr_request_payload(
            legal_entity_id=self.legal_entity.pk, person_cleaned_data=cleaned_by_step[STEP_PERSON]
        )
        return payload, payload_canonical(payload)

    def payload_step_data(self, payload: dict) -> dict[str, dict]:
        return {
            STEP_PERSON: raw_step_data(HrPersonForm, STEP_PERSON, HrPersonForm.values_from_payload(payload))
        }

    def signer_context(self, payload: dict) -> dict:
        head = _head_party(self.request.user)
        return {"expected_drfo": head.tax_id if head else ""}

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context["legal_entity"] = self.legal_entity
        return context

    def review_context(self) -> dict:
        role = selectors.dictionary_value_label(name="EMPLOYEE_TYPE", key=HR) or HR
        return {"role": role, **super().review_context()}

    # --- Submission ---------------------------------------------------------------------------------

    def done(self, form, **kwargs):
        try:
            payload, _document = self.signed_document(form)
            request, _token = services.employee_request_create(
                legal_entity=self.legal_entity,
                actor=self.request.user,
                data=payload,
                signed_envelope=form.cleaned_data["signed_envelope"],
            )
        except ValidationError as error:
            return self._refused(form, error)
        self.storage.reset()
        self.request.session[SESSION_SENT] = str(request.pk)
        return redirect("registry:hr-access-sent")

    def _refused(self, form, error: ValidationError):
        """The signature's problems at the signature field; the HR officer's data at its field on step 1
        (shown again: an email of another person, a person already working here); the rest above."""
        if not hasattr(error, "error_dict"):
            return self.render(form, submit_errors=list(error.messages))
        person_form = self.get_form(STEP_PERSON, data=self.storage.get_step_data(STEP_PERSON))
        person_form.is_valid()
        on_person, others = False, []
        for path, items in error.error_dict.items():
            for item in items:
                if path == SIGNED_FIELD or (item.code or "").startswith("signer_"):
                    form.add_error("signature", item.messages)
                elif HrPersonForm.builds_path(path):
                    person_form.add_request_error(path, item)
                    on_person = True
                else:  # the facility's own state (closed meanwhile): nothing to correct in the form
                    others += item.messages
        if on_person:
            messages.warning(self.request, _("Correct the HR officer's data, then sign the request again."))
            for message in others:
                messages.error(self.request, message)
            self.storage.current_step = STEP_PERSON
            return self.render(person_form)
        return self.render(form, submit_errors=others)


def _head_party(user) -> Party | None:
    # The same person the service compares the signer with (`employee_request_create`).
    return Party.objects.filter(user=user).first()


hr_access_wizard = HrAccessWizard.as_view(url_name="registry:hr-access-step")


@never_cache
@login_required
def hr_access_sent(request):
    """The invitation is on its way: to whom, until when (only the request this session has just sent)."""
    legal_entity = head_facility(request)
    request_id = request.session.get(SESSION_SENT)
    employee_request = (
        EmployeeRequest.objects.filter(pk=request_id, legal_entity=legal_entity).first()
        if request_id
        else None
    )
    if employee_request is None:
        raise Http404
    return render(
        request,
        "registry/staff/hr_access_sent.html",
        {"employee_request": employee_request, "legal_entity": legal_entity},
    )
