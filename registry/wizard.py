"""Step-by-step forms: `StepWizard`, what every wizard of the portal shares (facility registration now;
staff and declarations next), and `RegistrationWizard`, the five steps of facility registration, kept in
the session and saved only on submission.

A step's URL is /register/<step>/. "Back" posts `wizard_goto_step` and the review's "Change" buttons
`wizard_change_step`; the step being left is stored as typed, valid or not, so nothing is lost; a step is shown only
when every earlier step is complete. A change asked for on the review, or the correction of a rejected
application, opens the step at fault and then returns to the review (through the other steps at fault
only). The signed document is the canonical JSON of the payload built from the steps
(`registry.payloads`); the review shows it in words, by step, and exactly, behind a disclosure and as a
download.

`SignedReviewWizard` is a wizard whose review is a document the user signs (registration, the head
granting HR access, `registry.views.hr_access`). The head changes a registered facility's data with the
registration's steps (`registry.views.facility_edit`): its hooks here are `steps_payload`,
`expected_signer`, `correctable` and `is_signature_error`.
"""

import base64
import hashlib
import secrets
from collections.abc import Iterable

from allauth.core.ratelimit import consume_or_429
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.datastructures import MultiValueDict
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from formtools.wizard.forms import ManagementForm
from formtools.wizard.views import NamedUrlSessionWizardView

from .forms import (
    ALREADY_REGISTERED,
    PAYLOAD_PATH_LABELS,
    PUBLIC_OFFER_TEXT,
    STEP_ADDRESSES,
    STEP_FACILITY,
    STEP_HEAD,
    STEP_LICENCE,
    STEP_REVIEW,
    WIZARD_STEPS,
    review_sections,
    step_for_payload_path,
    wizard_payload,
    wizard_step_data,
)
from .models import ApplicationCheck, RegistrationApplication
from .payloads import (
    SOLE_PROPRIETOR_LEGAL_FORM,
    legal_entity_payload_canonical,
    legal_entity_payload_validate,
    payload_full_name,
)
from .selectors import registration_application_by_token
from .services import ENVELOPE_FIELD, registration_application_submit

# The wizard's own keys in the session storage's extra data.
BACK_TO_REVIEW = "back_to_review"  # a correction is under way: a saved step returns to the review
STEPS_AT_FAULT = "steps_at_fault"  # the other steps the correction still has to visit
SHOW_ERRORS = "show_errors"  # a step the wizard sent the user back to: shown with its errors
CHANGE_STEP = "wizard_change_step"  # the review's "Change" buttons: like formtools' wizard_goto_step, and
# the wizard comes back to the review once that step is saved


class StepWizard(NamedUrlSessionWizardView):
    """Navigation shared by the portal's wizards; the last step is the review.

    Subclasses set `form_list`, `title` (what the wizard does), `step_titles` ({step: title}) and
    `template_name` (a template extending registry/wizard/base.html), and submit in `done(form)`.
    """

    title = ""
    step_titles: dict = {}

    @property
    def review_step(self) -> str:
        return self.steps.last

    def data_steps(self) -> list[str]:
        """Every step but the review: the ones that hold the data."""
        return [step for step in self.get_form_list() if step != self.review_step]

    def get(self, request, *args, **kwargs):
        step = kwargs.get("step")
        if step == self.done_step_name:  # submission happens on the review step's POST only
            return redirect(self.get_step_url(self.review_step))
        if step in self.get_form_list() and (incomplete := self.first_incomplete_step(before=step)):
            return self.render_revalidation_failure(incomplete, None)
        if step == self.review_step:
            self.correction_end()
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        change = self.request.POST.get(CHANGE_STEP)
        if change in self.data_steps():
            self._keep_current_input(self.posted_step())
            self.correction_start()
            return self.render_goto_step(change)
        if self.request.POST.get("wizard_goto_step") in self.get_form_list():
            self._keep_current_input(self.posted_step())
        return super().post(*args, **kwargs)

    def posted_step(self) -> str | None:
        management = ManagementForm(self.request.POST, prefix=self.prefix)
        return management.cleaned_data["current_step"] if management.is_valid() else None

    def _keep_current_input(self, step: str | None) -> None:
        """Store what the user typed on the step they leave, unvalidated (files are not kept)."""
        if step in self.get_form_list():
            self.storage.set_step_data(step, self.kept_data(step, self.request.POST))

    def kept_data(self, step: str, data):
        """The posted data of a step as stored; a subclass drops what must not be kept."""
        return data.copy()

    def process_step(self, form):
        return self.kept_data(self.steps.current, form.data)

    def render_done(self, form, **kwargs):
        """On the review's POST: re-check every step, then `done` with this request's review form
        (formtools' own would redirect to a "done" URL first, and a signature is read from this request
        only); `done` drops the wizard's data only after a successful submission."""
        if incomplete := self.first_incomplete_step():
            return self.render_revalidation_failure(incomplete, None)
        return self.done(form)

    def first_incomplete_step(self, *, before: str | None = None) -> str | None:
        """The first step before `before` (the review) whose stored data does not validate."""
        before = before or self.review_step
        for step in self.get_form_list():
            if step == before:
                return None
            if self.get_cleaned_data_for_step(step) is None:
                return step
        return None

    # --- Corrections --------------------------------------------------------------------------------

    def correction_start(self, steps_at_fault: Iterable[str] = ()) -> None:
        """From now on a saved step leads to the next of `steps_at_fault`, then back to the review."""
        self.storage.extra_data = {
            **self.storage.extra_data,
            BACK_TO_REVIEW: True,
            STEPS_AT_FAULT: list(steps_at_fault),
        }

    def correction_end(self) -> None:
        extra = self.storage.extra_data
        if BACK_TO_REVIEW in extra:
            self.storage.extra_data = {
                key: value for key, value in extra.items() if key not in (BACK_TO_REVIEW, STEPS_AT_FAULT)
            }

    def correcting(self) -> bool:
        return bool(self.storage.extra_data.get(BACK_TO_REVIEW))

    def render_next_step(self, form, **kwargs):
        if not self.correcting():
            return super().render_next_step(form, **kwargs)
        extra = self.storage.extra_data
        pending = [step for step in extra.get(STEPS_AT_FAULT, []) if step != self.steps.current]
        self.storage.extra_data = {**extra, STEPS_AT_FAULT: pending}
        # A saved change can make a later step incomplete (a sole proprietor's code and the head's RNOKPP).
        order = self.get_form_list()
        candidates = [step for step in (*pending, self.first_incomplete_step()) if step in order]
        target = min(candidates, key=list(order).index) if candidates else self.review_step
        self.storage.current_step = target
        return redirect(self.get_step_url(target))

    def render_revalidation_failure(self, failed_step, form, **kwargs):
        """Back to an earlier step that is not (or no longer) complete, which then shows its errors."""
        self.storage.extra_data = {**self.storage.extra_data, SHOW_ERRORS: failed_step}
        return super().render_revalidation_failure(failed_step, form, **kwargs)

    # --- Rendering ----------------------------------------------------------------------------------

    def render(self, form=None, **kwargs):
        form = form or self.get_form()
        sent_back = self.storage.extra_data.get(SHOW_ERRORS) == self.steps.current
        if sent_back:
            self.storage.extra_data = {
                key: value for key, value in self.storage.extra_data.items() if key != SHOW_ERRORS
            }
        if self.request.method == "GET" and form.is_bound and not form.is_valid() and not sent_back:
            # Back on an unfinished step: show what was typed, without errors the user has not asked for.
            form = self.typed_form(form)
        return super().render(form, **kwargs)

    def typed_form(self, typed):
        """The step's form unbound, showing what `typed` (the same form, bound) holds; a wizard whose
        forms hold more than their fields (repeated blocks) adds that."""
        form = self.get_form(data=None)
        form.initial = {
            name: field.widget.value_from_datadict(typed.data, {}, typed.add_prefix(name))
            for name, field in typed.fields.items()
        }
        return form

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context["progress"] = [
            {
                "name": step,
                "title": self.step_titles[step],
                "number": number,
                "is_current": step == self.steps.current,
            }
            for number, step in enumerate(self.get_form_list(), start=1)
        ]
        context["step_title"] = self.step_titles[self.steps.current]
        context["wizard_title"] = self.title
        pending = [s for s in self.storage.extra_data.get(STEPS_AT_FAULT, []) if s != self.steps.current]
        context["returns_to_review"] = self.correcting() and not pending
        return context

    def forms_for_data(self, data_by_step: dict) -> dict:
        """The data steps' forms bound to `data_by_step` ({step: raw data}), for the review's summary."""
        return {step: self.get_form(step, data=data_by_step.get(step)) for step in self.data_steps()}

    def titled_sections(self, data_by_step: dict) -> list[dict]:
        """The review's summary of `data_by_step` ({step: raw data}), each step with its title."""
        sections = review_sections(self.forms_for_data(data_by_step))
        for section in sections:
            section["title"] = self.step_titles[section["step"]]
        return sections


DOCUMENT_STEP = "document"  # <wizard>/document/: the document to sign, as a download
# Fields of the review step that are never kept when the user leaves it: a signature is only valid
# for the document shown at that moment.
UNKEPT_REVIEW_FIELDS = ("signature_base64", "document_sha256")


class SignedReviewWizard(StepWizard):
    """A wizard whose review is a document the user signs (a `SignedDocumentForm` with `document_sha256`).

    The review shows the document in words (read back from it) and exactly, and offers it as a download
    (`<wizard>/document/`); the signature is read from the submitting request only, never kept. Subclasses
    set `document_filename` and `document_changed_message`, and make the document from the data steps'
    cleaned data (`document_from_steps`) and read it back into them (`payload_step_data`); `signer_context`
    tells the page who must sign.
    """

    document_filename = ""
    document_changed_message = ""
    # formtools insists on a file storage when a step has a file field; uploads are never stored
    # (process_step_files): the signature is read from the submitting request only.
    file_storage = FileSystemStorage()

    def get(self, request, *args, **kwargs):
        if kwargs.get("step") == DOCUMENT_STEP:
            return self._document_download()
        return super().get(request, *args, **kwargs)

    def kept_data(self, step: str, data):
        data = super().kept_data(step, data)
        if step == self.review_step:
            for name in UNKEPT_REVIEW_FIELDS:
                data.pop(f"{step}-{name}", None)
        return data

    def process_step_files(self, form):
        return {}

    # --- The document -------------------------------------------------------------------------------

    def document_from_steps(self, cleaned_by_step: dict[str, dict]) -> tuple[dict, bytes]:
        """The payload the data steps make and its canonical JSON; ValidationError from its rules."""
        raise NotImplementedError

    def payload_step_data(self, payload: dict) -> dict[str, dict]:
        """The data steps' raw data (as if typed in) that reproduces `payload`."""
        raise NotImplementedError

    def signer_context(self, payload: dict) -> dict:
        """Who must sign `payload`, for the browser to refuse another person's key file."""
        return {}

    def document(self) -> tuple[dict, bytes]:
        """The payload built from the steps and its canonical JSON; ValidationError from its rules."""
        cleaned = {step: self.get_cleaned_data_for_step(step) for step in self.data_steps()}
        if None in cleaned.values():
            raise ValidationError(_("Some steps are not complete."))
        return self.document_from_steps(cleaned)

    def signed_document(self, form) -> tuple[dict, bytes]:
        """The document again, on the submission: refused when it is not the one the page showed (and
        the user signed), as the data changed meanwhile."""
        payload, document = self.document()
        if form.cleaned_data.get("document_sha256") != hashlib.sha256(document).hexdigest():
            raise ValidationError(self.document_changed_message)
        return payload, document

    def _document_download(self):
        try:
            _payload, document = self.document()
        except ValidationError:
            return redirect(self.get_step_url(self.review_step))
        response = HttpResponse(document, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.document_filename}"'
        return response

    # --- Rendering ----------------------------------------------------------------------------------

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        if self.steps.current == self.review_step:
            context.update(self.review_context())
        return context

    def review_context(self) -> dict:
        """The document to sign, and its summary read back from it; while the steps make none, the
        summary of what is stored and the rules it breaks."""
        try:
            payload, document = self.document()
        except ValidationError as error:
            stored = {step: self.storage.get_step_data(step) for step in self.data_steps()}
            return {
                "review_sections": self.titled_sections(stored),
                "payload_errors": payload_error_list(error),
            }
        # The summary is read back from the document itself: what it shows is what is signed.
        typed = {step: MultiValueDict(data) for step, data in self.payload_step_data(payload).items()}
        return {
            "review_sections": self.titled_sections(typed),
            "document": document.decode(),
            "document_base64": base64.b64encode(document).decode(),
            "document_sha256": hashlib.sha256(document).hexdigest(),
            "document_filename": self.document_filename,
            "document_url": self.get_step_url(DOCUMENT_STEP),
            **self.signer_context(payload),
        }


STEP_TITLES = {
    STEP_FACILITY: gettext_lazy("Facility"),
    STEP_ADDRESSES: gettext_lazy("Addresses"),
    STEP_LICENCE: gettext_lazy("Licence"),
    STEP_HEAD: gettext_lazy("Head"),
    STEP_REVIEW: gettext_lazy("Review and sign"),
}


@method_decorator(never_cache, name="dispatch")
class RegistrationWizard(SignedReviewWizard):
    form_list = WIZARD_STEPS
    title = gettext_lazy("Register a medical facility")
    step_titles = STEP_TITLES
    template_name = "registry/wizard/step.html"
    document_filename = "legal-entity-registration.json"
    document_changed_message = gettext_lazy(
        "The data changed since this page was shown. Check it and sign the document again."
    )

    # --- Navigation ---------------------------------------------------------------------------------

    def get(self, request, *args, **kwargs):
        step = kwargs.get("step")
        if step is None and request.GET.get("correct"):
            return self._start_from_application(request.GET["correct"])
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        navigating = {self.request.POST.get(name) for name in ("wizard_goto_step", CHANGE_STEP)}
        submitting = not navigating & set(self.get_form_list()) and self.posted_step() == STEP_REVIEW
        if submitting and (limited := self._submission_limited()):
            return limited
        return super().post(*args, **kwargs)

    def _submission_limited(self):
        """Submissions are limited per address and per head's email (each costs a signature check)."""
        if limited := consume_or_429(self.request, action="registration_submit"):
            return limited
        head_email = ((self.get_cleaned_data_for_step(STEP_HEAD) or {}).get("email") or "").lower()
        if head_email:
            return consume_or_429(self.request, action="registration_submit_head", key=head_email)
        return None

    def get_form_kwargs(self, step=None):
        if step == STEP_HEAD:
            facility = self.get_cleaned_data_for_step(STEP_FACILITY) or {}
            if facility.get("legal_form") == SOLE_PROPRIETOR_LEGAL_FORM:
                return {"sole_proprietor_code": facility.get("edrpou")}
        return {}

    def _start_from_application(self, token: str):
        """The status page's "Correct and submit again": the rejected application's data, opened at the
        first step its reasons name; the other steps they name follow, then the review."""
        application = registration_application_by_token(token=token)
        if application is None or not self.correctable(application):
            raise Http404
        self.storage.reset()
        for step, data in wizard_step_data(application.data).items():
            self.storage.set_step_data(step, data)
        order = list(self.get_form_list())
        at_fault = sorted({_reason_step(reason) for reason in application.reasons}, key=order.index)
        first = at_fault[0] if at_fault else STEP_REVIEW
        self.correction_start(at_fault[1:])
        self.storage.current_step = first
        messages.info(
            self.request,
            _("The data of your application is filled in: correct it, then sign the new document.")
            if first == STEP_REVIEW
            else _(
                "The data of your application is filled in. Correct this step; then you return to the review."
            ),
        )
        for reason in application.reasons:
            if reason.get("message"):
                messages.warning(self.request, reason["message"])
        return redirect(self.get_step_url(first))

    def correctable(self, application: RegistrationApplication) -> bool:
        """Whether this wizard reopens the application: a rejected registration (a change has its own)."""
        return (
            application.status == RegistrationApplication.Status.REJECTED
            and application.legal_entity_id is None
        )

    # --- The document and the review ---------------------------------------------------------------

    def document_from_steps(self, cleaned_by_step: dict[str, dict]) -> tuple[dict, bytes]:
        payload = legal_entity_payload_validate(self.steps_payload(cleaned_by_step))
        return payload, legal_entity_payload_canonical(payload)

    def steps_payload(self, cleaned_by_step: dict[str, dict]) -> dict:
        """The payload the steps make (before the payload rules normalise it)."""
        return wizard_payload(cleaned_by_step)

    def payload_step_data(self, payload: dict) -> dict[str, dict]:
        return wizard_step_data(payload)

    def expected_signer(self, payload: dict) -> dict:
        """Who must sign the document (see `expected_signer`)."""
        return expected_signer(payload)

    def signer_context(self, payload: dict) -> dict:
        return {"expected_signer": self.expected_signer(payload)}

    def review_context(self) -> dict:
        self._submission_key()  # in the session before the submit: a double submit shares it
        return {"public_offer_text": PUBLIC_OFFER_TEXT, **super().review_context()}

    # --- Submission ---------------------------------------------------------------------------------

    def _submission_key(self) -> str:
        """The idempotency key of this wizard run, kept in the session."""
        extra = self.storage.extra_data
        if not extra.get("submission_key"):
            self.storage.extra_data = {**extra, "submission_key": secrets.token_urlsafe(24)}
        return self.storage.extra_data["submission_key"]

    def done(self, form, **kwargs):
        try:
            payload, _document = self.signed_document(form)
            _application, token = registration_application_submit(
                signed_envelope=form.cleaned_data["signed_envelope"],
                data=payload,
                channel=RegistrationApplication.Channel.WEB,
                submitted_by=self.request.user if self.request.user.is_authenticated else None,
                submission_key=self._submission_key(),
            )
        except ValidationError as error:
            return self.render(form, submit_errors=self._signature_errors_to_field(form, error))
        self.storage.reset()
        return redirect("registry:application-status", token=token)

    def _signature_errors_to_field(self, form, error: ValidationError) -> list[str]:
        """Refusals of the signature or its signer go next to the signature field; the rest above the form
        (a facility registered meanwhile with what to do instead)."""
        if not hasattr(error, "error_dict"):
            return list(error.messages)
        others = {}
        for path, items in error.error_dict.items():
            for item in items:
                if self.is_signature_error(path, item):
                    form.add_error("signature", item.messages)
                elif item.code == "legal_entity_exists":
                    others.setdefault(path, []).append(ValidationError(ALREADY_REGISTERED, code=item.code))
                else:
                    others.setdefault(path, []).append(item)
        return payload_error_list(ValidationError(others)) if others else []

    def is_signature_error(self, path: str, item: ValidationError) -> bool:
        """A refusal of the signature or of its signer: shown next to the signature field."""
        return path == ENVELOPE_FIELD or (item.code or "").startswith("signer_")


def _reason_step(reason: dict) -> str:
    """The step where a rejection reason is corrected: the review (a new signature) for the signature's."""
    if reason.get("step") == ApplicationCheck.Step.SIGNATURE:
        return STEP_REVIEW
    return step_for_payload_path(reason.get("field") or "")


def expected_signer(payload: dict) -> dict:
    """Who must sign, as the signature check compares it: the head's RNOKPP and names, and the facility's
    EDRPOU (not for a sole proprietor, whose code is the RNOKPP). The review gives it to the browser,
    which refuses another person's key file before signing."""
    owner = payload["owner"]
    given_names = " ".join(filter(None, [owner["first_name"], owner.get("second_name")]))
    return {
        "drfo": owner["tax_id"],
        "edrpou": "" if payload["legal_form"] == SOLE_PROPRIETOR_LEGAL_FORM else payload["edrpou"],
        "surname": owner["last_name"],
        "given_names": given_names,
        "full_name": payload_full_name(owner),
    }


def payload_error_list(error: ValidationError) -> list[str]:
    """A ValidationError from the payload rules or the submission, as readable lines."""
    if hasattr(error, "error_dict"):
        lines = []
        for path, errors in error.message_dict.items():
            label = payload_path_label(path)
            lines += [f"{label}: {message}" if label else message for message in errors]
        return lines
    return list(error.messages)


def payload_path_label(path: str) -> str:
    """A payload path such as "owner.tax_id" in words; the path itself when it has no label."""
    if path in ("__all__", ""):
        return ""
    for prefix, label in PAYLOAD_PATH_LABELS:
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            return str(label)
    return path
