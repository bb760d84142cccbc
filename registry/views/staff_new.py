"""New staff (`/cabinet/staff/new/`): the chooser of roles, the doctor wizard, one page for the other roles,
and the page saying the invitation is sent.

Whoever keeps the staff (`employee_request:write`: the head, HR, an administrator) invites; the request is
not signed. Doctor: `/cabinet/staff/new/doctor/<step>/` (`DoctorWizard`: person → education →
qualifications → specialities → place of service → review), kept in the session for one facility.
Administrator, accountant, assistant: `/cabinet/staff/new/<type>/` (`forms.staff_other.StaffMemberForm`).
HR access is the head's to grant with a signature (`hr_access`): the chooser links there. Submit →
`services.employee_request_create` (the facility's checks; their refusals at the field they concern) →
the invitation email.

A working employee's data changes with a new request (eHealth's update mode, `employee_id`):
`/cabinet/staff/<id>/change/` (the employee's page links there) fills the same forms in from the
employee — the doctor wizard at `/cabinet/staff/<id>/change/doctor/<step>/` (its own draft, opened on the
review), the other roles' form on that page. The RNOKPP, birth date, start date and email are shown
read-only and taken from the employee; the invitee gets an update invitation, keeps working meanwhile, and
on acceptance the same employee is updated (its history keeps the previous version). The head's data
changes with the facility's; a dismissed employee is not changed. An HR officer's data changes here too,
unsigned: the head signs the grant of the HR role, and a change cannot alter the role (nor the person's
identity); the HR officer accepts it themselves, as every invitee does.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path as url_path
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from .. import permissions, selectors, services
from ..forms import raw_step_data, review_sections
from ..forms.staff_doctor import (
    BLOCK_ACTION,
    BLOCKS_INITIAL,
    DOCTOR,
    DOCTOR_STEPS,
    STEP_EDUCATION,
    STEP_PERSON,
    STEP_PLACE,
    STEP_QUALIFICATIONS,
    STEP_REVIEW,
    STEP_SPECIALITIES,
    BlocksForm,
)
from ..forms.staff_other import (
    OTHER_EMPLOYEE_TYPES,
    StaffMemberForm,
    employee_change_payload,
    employee_request_of,
    fields_locked,
    locked_values,
    staff_request_payload,
)
from ..models import Division, Employee, EmployeeRequest, LegalEntity
from ..payloads import STAFF_EMPLOYEE_TYPES, employee_request_payload_validate
from ..selectors.divisions import division_list
from ..selectors.staff import employee_get, employee_request_get
from ..wizard import StepWizard
from .access import cabinet_facility

SCOPE = "employee_request:write"
SESSION_SENT = "registry:staff-new-sent"  # the request just sent, for the confirmation page
FACILITY_KEY = "legal_entity"  # the wizard's extra data: whose draft it is (facility, or facility/employee)
DOCTOR_STEP_TITLES = {
    STEP_PERSON: gettext_lazy("Person"),
    STEP_EDUCATION: gettext_lazy("Education"),
    STEP_QUALIFICATIONS: gettext_lazy("Qualifications"),
    STEP_SPECIALITIES: gettext_lazy("Specialities"),
    STEP_PLACE: gettext_lazy("Place of service"),
    STEP_REVIEW: gettext_lazy("Review and send"),
}


def _active_divisions(legal_entity) -> list[Division]:
    return list(division_list(legal_entity=legal_entity, status=Division.Status.ACTIVE))


def _sent(request, employee_request):
    """After a request is sent: the confirmation page (PRG), for this session's request only."""
    request.session[SESSION_SENT] = str(employee_request.pk)
    return redirect("registry:staff-new-sent")


def _role_label(employee_type: str) -> str:
    return selectors.dictionary_value_label(name="EMPLOYEE_TYPE", key=employee_type) or employee_type


def _send(request, legal_entity: LegalEntity, form, data: dict) -> HttpResponse | None:
    """Send the request made from a valid one-page form; the refusals go to its fields (None then)."""
    try:
        employee_request, _token = services.employee_request_create(
            legal_entity=legal_entity, actor=request.user, data=data
        )
    except ValidationError as error:
        for path, items in error.update_error_dict({}).items():
            for item in items:
                form.add_payload_error(path, item)  # "party.email" → the email field
        return None
    return _sent(request, employee_request)


# --- A change of an employee's data: who, and where the update invitation goes --------------------------


def _changed_employee(
    request, legal_entity: LegalEntity, employee_id
) -> tuple[Employee, HttpResponse | None]:
    """The facility's employee (404 otherwise) and, if their data cannot be changed now, the answer
    saying why: the employee's page with a message."""
    employee = employee_get(legal_entity=legal_entity, employee_id=employee_id)
    if employee.status != Employee.Status.APPROVED or not employee.is_active:
        message = _("%(name)s is dismissed: their data can no longer be changed.")
    elif employee.employee_type not in STAFF_EMPLOYEE_TYPES:
        message = _("The head's data changes with the facility's registration data, not with a request.")
    else:
        return employee, None
    messages.error(request, message % {"name": employee.party})
    return employee, redirect("registry:employee-detail", employee_id=employee.pk)


def _invitee_email(employee: Employee) -> str:
    """Where the update invitation goes: the address the person signs in with (a signed-in invitee accepts
    with it), else the one their latest accepted invitation went to."""
    if employee.party.user_id:
        return employee.party.user.email
    return (
        employee.requests.filter(status=EmployeeRequest.Status.APPROVED)
        .order_by("-decided_at")
        .values_list("email", flat=True)
        .first()
        or ""
    )


# --- The chooser ------------------------------------------------------------------------------------


@never_cache
@login_required
def staff_new(request):
    legal_entity = cabinet_facility(request, SCOPE)
    roles = [{"slug": slug, "label": _role_label(role)} for slug, role in OTHER_EMPLOYEE_TYPES.items()]
    return render(
        request,
        "registry/staff/new.html",
        {
            "legal_entity": legal_entity,
            "doctor_label": _role_label(DOCTOR),
            "roles": roles,
            "hr_label": _role_label("HR"),
            "is_head": selectors.OWNER in permissions.roles_of(request.user, legal_entity),
        },
    )


# --- Other roles ----------------------------------------------------------------------------------------


@never_cache
@login_required
def staff_new_other(request, employee_type: str):
    legal_entity = cabinet_facility(request, SCOPE)
    if employee_type not in OTHER_EMPLOYEE_TYPES:
        raise Http404
    role = OTHER_EMPLOYEE_TYPES[employee_type]
    form = StaffMemberForm(request.POST or None, divisions=_active_divisions(legal_entity))
    sent = None
    if request.method == "POST" and form.is_valid():
        sent = _send(request, legal_entity, form, staff_request_payload(role, [form.payload_part()]))
    return sent or render(
        request,
        "registry/staff/new_other.html",
        {"legal_entity": legal_entity, "form": form, "role": _role_label(role)},
    )


@never_cache
@login_required
def staff_change(request, employee_id):
    """The employee page's "Change the data": a doctor's in the wizard; the other roles' (HR's too) on this
    page, the other roles' form filled in from the employee."""
    legal_entity = cabinet_facility(request, SCOPE)
    employee, refused = _changed_employee(request, legal_entity, employee_id)
    if refused:
        return refused
    if employee.employee_type == DOCTOR:
        return redirect("registry:staff-change-doctor", employee_id=employee.pk)
    email = _invitee_email(employee)
    form = StaffMemberForm(
        request.POST or None,
        initial=StaffMemberForm.values_from_payload(employee_request_of(employee, email=email)),
        divisions=_active_divisions(legal_entity),
    )
    fields_locked(form, locked_values(employee, email=email))
    sent = None
    if request.method == "POST" and form.is_valid():
        data = staff_request_payload(employee.employee_type, [form.payload_part()])
        sent = _send(request, legal_entity, form, employee_change_payload(data, employee, email=email))
    return sent or render(
        request,
        "registry/staff/new_other.html",
        {
            "legal_entity": legal_entity,
            "form": form,
            "role": _role_label(employee.employee_type),
            "employee": employee,
        },
    )


# --- The doctor wizard ------------------------------------------------------------------------------


@method_decorator([never_cache, login_required], name="dispatch")
class DoctorWizard(StepWizard):
    form_list = DOCTOR_STEPS
    title = gettext_lazy("Invite a doctor")
    step_titles = DOCTOR_STEP_TITLES
    template_name = "registry/staff/doctor_step.html"
    # A change of this doctor's data (eHealth's update mode): the URL's `employee_id`; None to invite.
    employee: Employee | None = None

    def get_prefix(self, request, *args, **kwargs):
        # A change has a draft of its own: an invitation being typed meanwhile is kept.
        prefix = super().get_prefix(request, *args, **kwargs)
        return f"{prefix}_change" if "employee_id" in kwargs else prefix

    def dispatch(self, request, *args, **kwargs):
        self.legal_entity = cabinet_facility(request, SCOPE)  # before anything is read or kept
        if "employee_id" in kwargs:
            self.employee, refused = _changed_employee(request, self.legal_entity, kwargs["employee_id"])
            if refused:
                return refused
            if self.employee.employee_type != DOCTOR:  # the other roles change on one page
                return redirect("registry:staff-change", employee_id=self.employee.pk)
            self.title = gettext_lazy("Change a doctor's data")
            self.invitee_email = _invitee_email(self.employee)
            self.locked = locked_values(self.employee, email=self.invitee_email)
        return super().dispatch(request, *args, **kwargs)

    def get_step_url(self, step):
        if self.employee is None:
            return super().get_step_url(step)
        return reverse(self.url_name, kwargs={"employee_id": self.employee.pk, "step": step})

    def get(self, request, *args, **kwargs):
        if self.employee is not None and kwargs.get("step") is None:
            # "Change the data": the doctor's data as it is now, shown on the review, each part changed
            # with its "Change".
            self._start_change()
            messages.info(
                request,
                _("The data of %(name)s is filled in. Change what is needed, then send the request.")
                % {"name": self.employee.party},
            )
            return redirect(self.get_step_url(STEP_REVIEW))
        self._draft_of_this_facility()
        return super().get(request, *args, **kwargs)

    def post(self, *args, **kwargs):
        if self._draft_of_this_facility():
            return redirect(self.get_step_url(self.steps.first if self.employee is None else STEP_REVIEW))
        step = self.posted_step()
        form_class = self.get_form_list().get(step)
        action = self.request.POST.get(BLOCK_ACTION)
        if action and form_class is not None and issubclass(form_class, BlocksForm):
            # "Add one more" / "Remove": the step as typed, with a block more or less, shown again.
            prefix = self.get_form_prefix(step, form_class)
            self.storage.set_step_data(
                step, form_class.blocks_edited(self.request.POST, prefix=prefix, action=action)
            )
            self.storage.current_step = step
            return redirect(self.get_step_url(step))
        return super().post(*args, **kwargs)

    def _draft_owner(self) -> str:
        if self.employee is None:
            return str(self.legal_entity.pk)
        return f"{self.legal_entity.pk}/{self.employee.pk}"

    def _draft_of_this_facility(self) -> bool:
        """A draft typed for another facility (the person switched cabinets meanwhile) — or, in a change,
        for another employee — is never sent: the wizard starts again (a change from the employee's
        data), saying so. Returns whether such a draft was dropped."""
        drafted_for = self.storage.extra_data.get(FACILITY_KEY)
        if drafted_for == self._draft_owner():
            return False
        if self.employee is not None:
            self._start_change()
        else:
            self.storage.reset()
            self.storage.extra_data = {FACILITY_KEY: self._draft_owner()}
        if drafted_for is None:
            return False
        if self.employee is not None:
            message = _("The form held another change. The data of %(name)s is filled in again.") % {
                "name": self.employee.party
            }
        else:
            message = _("The form was filled in for another facility. Start again for %(facility)s.") % {
                "facility": self.legal_entity
            }
        messages.warning(self.request, message)
        return True

    def _start_change(self) -> None:
        """A new draft holding the employee's data as it is now, every step as if typed in."""
        self.storage.reset()
        self.storage.extra_data = {FACILITY_KEY: self._draft_owner()}
        payload = employee_request_of(self.employee, email=self.invitee_email)
        for step in self.data_steps():
            form_class = self.get_form_list()[step]
            prefix = self.get_form_prefix(step, form_class)
            self.storage.set_step_data(
                step, raw_step_data(form_class, prefix, form_class.values_from_payload(payload))
            )
        self.storage.current_step = STEP_REVIEW

    def get_form_kwargs(self, step=None):
        if step == STEP_PLACE:
            return {"divisions": _active_divisions(self.legal_entity)}
        return {}

    def get_form(self, step=None, data=None, files=None):
        form = super().get_form(step, data, files)
        if self.employee is not None:
            fields_locked(form, self.locked)  # shown, never taken from the POST
        return form

    def typed_form(self, typed):
        form = super().typed_form(typed)
        if isinstance(typed, BlocksForm):
            form.initial[BLOCKS_INITIAL] = typed.typed_blocks()
        if self.employee is not None:
            fields_locked(form, self.locked)  # what was typed never replaces them
        return form

    def step_for_path(self, path: str) -> str | None:
        """The step where a payload member ("party.email", "doctor.specialities[1].level") is entered."""
        for step, form_class in self.get_form_list().items():
            for key in getattr(form_class, "payload_keys", ()):
                if path == key or path.startswith((f"{key}.", f"{key}[")):
                    return step
        return None

    # --- Review and submission ----------------------------------------------------------------------

    def _payload(self) -> dict:
        """eHealth's employee request from the steps, validated (ValidationError keyed by its paths)."""
        parts = []
        for step in self.data_steps():
            cleaned = self.get_cleaned_data_for_step(step)
            if cleaned is None:
                raise ValidationError(_("Some steps are not complete."))
            form = self.get_form_list()[step]()
            form.cleaned_data = cleaned
            parts.append(form.payload_part())
        payload = staff_request_payload(DOCTOR, parts)
        if self.employee is not None:
            payload = employee_change_payload(payload, self.employee, email=self.invitee_email)
        return employee_request_payload_validate(payload)

    def get_context_data(self, form, **kwargs):
        context = super().get_context_data(form=form, **kwargs)
        context["legal_entity"] = self.legal_entity
        context["employee"] = self.employee
        if self.steps.current == STEP_REVIEW:
            stored = {step: self.storage.get_step_data(step) for step in self.data_steps()}
            context["review_sections"] = self._sections(self.forms_for_data(stored))
            try:
                context["payload"] = self._payload()
            except ValidationError as error:
                context["payload_errors"] = self._error_lines(error)
        return context

    def _sections(self, forms_by_step: dict) -> list[dict]:
        sections = []
        for step, form in forms_by_step.items():
            if isinstance(form, BlocksForm):
                valid = form.is_valid()
                section = {
                    "step": step,
                    "groups": form.review_groups() if valid else [],
                    "incomplete": not valid,
                }
            else:
                section = review_sections({step: form})[0]
            sections.append({**section, "title": self.step_titles[step]})
        return sections

    def _error_lines(self, error: ValidationError) -> list[str]:
        """Errors by path as lines naming the step where each is corrected."""
        if not hasattr(error, "error_dict"):
            return list(error.messages)
        lines = []
        for path, texts in error.message_dict.items():
            step = self.step_for_path(path)
            lines += [f"{self.step_titles[step]}: {text}" if step else text for text in texts]
        return lines

    def done(self, form, **kwargs):
        try:
            employee_request, _token = services.employee_request_create(
                legal_entity=self.legal_entity, actor=self.request.user, data=self._payload()
            )
        except ValidationError as error:
            return self._refused(form, error)
        self.storage.reset()
        return _sent(self.request, employee_request)

    def _refused(self, form, error: ValidationError):
        """The facility's checks (a place of service closed meanwhile, an email of another person, a person
        already working or invited here) at the field of the step they concern, shown again; once it is
        saved the wizard returns to the review. What no step holds is said above the review."""
        by_step, others = {}, []
        for path, items in error.update_error_dict({}).items():
            step = self.step_for_path(path)
            if step in self.data_steps():
                by_step.setdefault(step, []).extend((path, item) for item in items)
            else:
                others += [message for item in items for message in item.messages]
        if not by_step:
            return self.render(form, submit_errors=others)
        order = list(self.get_form_list())
        first, *rest = sorted(by_step, key=order.index)
        step_form = self.get_form(first, data=self.storage.get_step_data(first))
        for path, item in by_step[first]:
            step_form.add_payload_error(path, item)
        for step in rest:
            others += [
                f"{self.step_titles[step]}: {message}"
                for _path, item in by_step[step]
                for message in item.messages
            ]
        self.correction_start(rest)
        self.storage.current_step = first
        return self.render(step_form, submit_errors=others)


doctor_wizard = DoctorWizard.as_view(url_name="registry:staff-new-doctor-step")
doctor_change_wizard = DoctorWizard.as_view(url_name="registry:staff-change-doctor-step")


# --- Sent --------------------------------------------------------------------------------------------


@never_cache
@login_required
def staff_new_sent(request):
    """The invitation is on its way: to whom, until when (only the request this session has just sent)."""
    legal_entity = cabinet_facility(request, SCOPE)
    request_id = request.session.get(SESSION_SENT)
    if not request_id:
        raise Http404
    employee_request = employee_request_get(legal_entity=legal_entity, employee_request_id=request_id)
    is_update = "employee_id" in employee_request.data  # a change of a working employee's data
    return render(
        request,
        "registry/staff/new_sent.html",
        {
            "legal_entity": legal_entity,
            "employee_request": employee_request,
            "role": _role_label(employee_request.employee_type),
            "employee": employee_request.employee if is_update else None,
        },
    )


urlpatterns = [
    url_path("cabinet/staff/new/", staff_new, name="staff-new"),
    url_path("cabinet/staff/new/sent/", staff_new_sent, name="staff-new-sent"),
    url_path("cabinet/staff/new/doctor/", doctor_wizard, name="staff-new-doctor"),
    url_path("cabinet/staff/new/doctor/<str:step>/", doctor_wizard, name="staff-new-doctor-step"),
    url_path("cabinet/staff/new/<str:employee_type>/", staff_new_other, name="staff-new-other"),
    url_path("cabinet/staff/<uuid:employee_id>/change/", staff_change, name="staff-change"),
    url_path(
        "cabinet/staff/<uuid:employee_id>/change/doctor/", doctor_change_wizard, name="staff-change-doctor"
    ),
    url_path(
        "cabinet/staff/<uuid:employee_id>/change/doctor/<str:step>/",
        doctor_change_wizard,
        name="staff-change-doctor-step",
    ),
]
