"""The facility registration wizard: five steps kept in the session, saved only on submission.

A step's URL is /register/<step>/. "Back" and the review's "Change" buttons post `wizard_goto_step`,
and the step being left is stored as typed, valid or not, so nothing is lost; a step is shown only
when every earlier step is complete. The signed document is the canonical JSON
of the payload built from the steps (`registry.payloads`), shown and downloadable on the review step.
"""

import base64
import hashlib
import secrets

from allauth.core.ratelimit import consume_or_429
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from formtools.wizard.forms import ManagementForm
from formtools.wizard.views import NamedUrlSessionWizardView

from .forms import (
    PAYLOAD_PATH_LABELS,
    PUBLIC_OFFER_TEXT,
    STEP_ADDRESSES,
    STEP_FACILITY,
    STEP_HEAD,
    STEP_LICENCE,
    STEP_REVIEW,
    WIZARD_STEPS,
    review_sections,
    wizard_payload,
    wizard_step_data,
)
from .models import RegistrationApplication
from .payloads import (
    SOLE_PROPRIETOR_LEGAL_FORM,
    legal_entity_payload_canonical,
    legal_entity_payload_validate,
)
from .selectors import registration_application_by_token
from .services import ENVELOPE_FIELD, registration_application_submit

STEP_TITLES = {
    STEP_FACILITY: gettext_lazy("Facility"),
    STEP_ADDRESSES: gettext_lazy("Addresses"),
    STEP_LICENCE: gettext_lazy("Licence"),
    STEP_HEAD: gettext_lazy("Head"),
    STEP_REVIEW: gettext_lazy("Review and sign"),
}
DOCUMENT_STEP = "document"  # /register/document/: the document to sign, as a download
DOCUMENT_FILENAME = "legal-entity-registration.json"
# Fields of the review step that are never kept when the user leaves it: a signature is only valid
# for the document shown at that moment.
UNKEPT_REVIEW_FIELDS = ("signature_base64", "document_sha256")


@method_decorator(never_cache, name="dispatch")
class RegistrationWizard(NamedUrlSessionWizardView):
    form_list = WIZARD_STEPS
    template_name = "registry/wizard/step.html"
    # formtools insists on a file storage when a step has a file field; uploads are never stored
    # (process_step_files): the signature is read from the submitting request only.
    file_storage = FileSystemStorage()

    # --- Navigation ---------------------------------------------------------------------------------

    def get(self, request, *args, **kwargs):
        step = kwargs.get("step")
        if step is None and request.GET.get("correct"):
            return self._start_from_application(request.GET["correct"])
        if step == DOCUMENT_STEP:
            return self._document_download()
        if step == self.done_step_name:  # submission happens on the review step's POST only
            return redirect(self.get_step_url(self.steps.last))
        if step in self.get_form_list() and (incomplete := self._first_incomplete_step(before=step)):
            return redirect(self.get_step_url(incomplete))
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        goto = self.request.POST.get("wizard_goto_step")
        if goto in self.get_form_list():
            self._keep_current_input()
        elif self._posted_step() == STEP_REVIEW and (limited := self._submission_limited()):
            return limited
        return super().post(*args, **kwargs)

    def _posted_step(self) -> str | None:
        management = ManagementForm(self.request.POST, prefix=self.prefix)
        return management.cleaned_data["current_step"] if management.is_valid() else None

    def _submission_limited(self):
        """Submissions are limited per address and per head's email (each costs a signature check)."""
        if limited := consume_or_429(self.request, action="registration_submit"):
            return limited
        head_email = ((self.get_cleaned_data_for_step(STEP_HEAD) or {}).get("email") or "").lower()
        if head_email:
            return consume_or_429(self.request, action="registration_submit_head", key=head_email)
        return None

    def _keep_current_input(self) -> None:
        """Store what the user typed on the step they leave, unvalidated (files are not kept)."""
        step = self._posted_step()
        if step not in self.get_form_list():
            return
        self.storage.set_step_data(step, _kept(step, self.request.POST))

    def _first_incomplete_step(self, *, before: str = STEP_REVIEW) -> str | None:
        """The first step before `before` whose stored data does not validate (None: all complete)."""
        for step in self.get_form_list():
            if step == before:
                return None
            if self.get_cleaned_data_for_step(step) is None:
                return step
        return None

    def get_form_kwargs(self, step=None):
        if step == STEP_HEAD:
            facility = self.get_cleaned_data_for_step(STEP_FACILITY) or {}
            if facility.get("legal_form") == SOLE_PROPRIETOR_LEGAL_FORM:
                return {"sole_proprietor_code": facility.get("edrpou")}
        return {}

    def process_step(self, form):
        return _kept(self.steps.current, form.data)

    def _start_from_application(self, token: str):
        """The status page's "Correct and submit again": the rejected application's data, to edit."""
        application = registration_application_by_token(token=token)
        if application is None or application.status != RegistrationApplication.Status.REJECTED:
            raise Http404
        self.storage.reset()
        for step, data in wizard_step_data(application.data).items():
            self.storage.set_step_data(step, data)
        self.storage.current_step = self.steps.first
        messages.info(
            self.request,
            _("The data of your application is filled in: correct it, then sign the new document."),
        )
        return redirect(self.get_step_url(self.steps.first))

    # --- Rendering ----------------------------------------------------------------------------------

    def render(self, form=None, **kwargs):
        form = form or self.get_form()
        if self.request.method == "GET" and form.is_bound and not form.is_valid():
            # Back on an unfinished step: show what was typed, without errors the user has not asked for.
            typed = form
            form = self.get_form(data=None)
            form.initial = {
                name: field.widget.value_from_datadict(typed.data, {}, typed.add_prefix(name))
                for name, field in typed.fields.items()
            }
        return super().render(form, **kwargs)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context["progress"] = [
            {
                "name": step,
                "title": STEP_TITLES[step],
                "number": number,
                "is_current": step == self.steps.current,
            }
            for number, step in enumerate(self.get_form_list(), start=1)
        ]
        context["step_title"] = STEP_TITLES[self.steps.current]
        if self.steps.current == STEP_REVIEW:
            context.update(self._review_context())
        return context

    def _data_steps(self) -> list[str]:
        """Every step but the review: the ones that hold the payload."""
        return [step for step in self.get_form_list() if step != STEP_REVIEW]

    def _steps_cleaned_data(self) -> dict[str, dict] | None:
        cleaned = {step: self.get_cleaned_data_for_step(step) for step in self._data_steps()}
        return None if None in cleaned.values() else cleaned

    def _document(self) -> tuple[dict, bytes]:
        """The payload built from the steps and its canonical JSON; ValidationError from its rules."""
        cleaned = self._steps_cleaned_data()
        if cleaned is None:
            raise ValidationError(_("Some steps are not complete."))
        payload = legal_entity_payload_validate(wizard_payload(cleaned))
        return payload, legal_entity_payload_canonical(payload)

    def _review_context(self) -> dict:
        sections = review_sections(self._review_forms())
        for section in sections:
            section["title"] = STEP_TITLES[section["step"]]
        context = {"review_sections": sections, "public_offer_text": PUBLIC_OFFER_TEXT}
        self._submission_key()  # in the session before the submit: a double submit shares it
        try:
            _payload, document = self._document()
        except ValidationError as error:
            context["payload_errors"] = payload_error_list(error)
            return context
        context.update(
            document=document.decode(),
            document_base64=base64.b64encode(document).decode(),
            document_sha256=hashlib.sha256(document).hexdigest(),
            document_filename=DOCUMENT_FILENAME,
        )
        return context

    def _review_forms(self) -> dict:
        return {
            step: self.get_form(step, data=self.storage.get_step_data(step)) for step in self._data_steps()
        }

    def _document_download(self):
        try:
            _payload, document = self._document()
        except ValidationError:
            return redirect(self.get_step_url(self.steps.last))
        response = HttpResponse(document, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{DOCUMENT_FILENAME}"'
        return response

    # --- Submission ---------------------------------------------------------------------------------

    def render_done(self, form, **kwargs):
        """Re-check every step, then submit with the review form of this request.

        The uploaded signature is read from this request, never stored in the session; the wizard's
        data is dropped only after a successful submission.
        """
        if incomplete := self._first_incomplete_step():
            return self.render_revalidation_failure(incomplete, None)
        return self.done(form)

    def process_step_files(self, form):
        return {}

    def _submission_key(self) -> str:
        """The idempotency key of this wizard run, kept in the session."""
        extra = self.storage.extra_data
        if not extra.get("submission_key"):
            self.storage.extra_data = {**extra, "submission_key": secrets.token_urlsafe(24)}
        return self.storage.extra_data["submission_key"]

    def done(self, form, **kwargs):
        try:
            payload, document = self._document()
            if form.cleaned_data.get("document_sha256") != hashlib.sha256(document).hexdigest():
                raise ValidationError(
                    _("The data changed since this page was shown. Check it and sign the document again.")
                )
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
        """Refusals of the signature or its signer go next to the signature field; the rest above the form."""
        if not hasattr(error, "error_dict"):
            return list(error.messages)
        others = {}
        for path, items in error.error_dict.items():
            for item in items:
                if path == ENVELOPE_FIELD or (item.code or "").startswith("signer_"):
                    form.add_error("signature", item.messages)
                else:
                    others.setdefault(path, []).append(item)
        return payload_error_list(ValidationError(others)) if others else []


def _kept(step: str, data):
    """The step's posted data as stored: the review step never keeps its signature."""
    data = data.copy()
    if step == STEP_REVIEW:
        for name in UNKEPT_REVIEW_FIELDS:
            data.pop(f"{step}-{name}", None)
    return data


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
