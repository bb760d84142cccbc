"""A facility's signed declarations in its cabinet: the list (by doctor, status, the day signed), one
declaration, and its termination on the doctor's or the patient's request; and the cabinet's section
of patients and declarations (`registry.cabinet`, registered in `DeclarationsConfig.ready`).

Each page asks `cabinet_facility` for its scope ("declaration:read", "declaration:terminate") and looks
the declaration up within that facility (another facility's is 404). The write is
`services.declarations.declaration_terminate`. `urlpatterns` are included by declarations/urls.py.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registry import permissions
from registry.models import Employee
from registry.views.access import cabinet_facility

from ..models import Declaration
from ..selectors.declarations import declaration_get, declaration_list
from ..services.declarations import (
    MANUAL_REASONS,
    REASON_DESCRIPTION_MAX,
    declaration_reason_text,
    declaration_terminate,
)
from ..services.limits import doctor_limit_status

DECLARATIONS_PER_PAGE = 25
DOCTORS_IN_SELECT = 500  # a facility's doctors in the filter, by name


def _doctors(legal_entity) -> list[Employee]:
    """The facility's doctors, working or not (a dismissed doctor's declarations stay in the list)."""
    return list(
        Employee.objects.filter(legal_entity=legal_entity, employee_type="DOCTOR")
        .select_related("party")
        .only("id", "status", "party__last_name", "party__first_name", "party__second_name")
        .order_by("party__last_name", "party__first_name", "pk")[:DOCTORS_IN_SELECT]
    )


class DeclarationFilterForm(forms.Form):
    """The list's filters, all optional: an invalid one is marked and left out."""

    employee = forms.ChoiceField(label=gettext_lazy("Doctor"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("All statuses")), *Declaration.Status.choices],
    )
    date_from = forms.DateField(
        label=gettext_lazy("Signed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("Signed until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, doctors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employee"].choices = [
            ("", _("All doctors")),
            *((str(doctor.pk), str(doctor.party)) for doctor in doctors),
        ]

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else getattr(self, "cleaned_data", {})
        return {
            "employee_id": data.get("employee") or None,
            "status": data.get("status") or None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }


class TerminateForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Who asks to terminate the declaration"),
        choices=list(MANUAL_REASONS.items()),
        widget=forms.RadioSelect,
    )
    reason_description = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=REASON_DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept with the declaration and shown in its history."),
    )


@never_cache
@login_required
def declaration_list_view(request):
    legal_entity = cabinet_facility(request, "declaration:read")
    form = DeclarationFilterForm(request.GET, doctors=_doctors(legal_entity))
    declarations = declaration_list(legal_entity=legal_entity, **form.filters())
    page = Paginator(declarations, DECLARATIONS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "declarations/declarations/list.html",
        {
            "legal_entity": legal_entity,
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "is_filtered": bool(query),
        },
    )


@never_cache
@login_required
def declaration_detail(request, declaration_id):
    legal_entity = cabinet_facility(request, "declaration:read")
    declaration = declaration_get(legal_entity=legal_entity, declaration_id=declaration_id)
    return _detail(request, legal_entity, declaration, TerminateForm())


@login_required
@require_POST
def declaration_terminate_view(request, declaration_id):
    legal_entity = cabinet_facility(request, "declaration:terminate")
    declaration = declaration_get(legal_entity=legal_entity, declaration_id=declaration_id)
    form = TerminateForm(request.POST)
    if form.is_valid():
        try:
            declaration_terminate(declaration=declaration, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            if not _errors_to_form(form, error):  # the declaration's status: no form to correct
                messages.error(request, " ".join(error.messages))
                return redirect("declarations:declaration-detail", declaration_id=declaration.pk)
        else:
            messages.success(
                request,
                _("Declaration № %(number)s is terminated.") % {"number": declaration.declaration_number},
            )
            return redirect("declarations:declaration-detail", declaration_id=declaration.pk)
    return _detail(request, legal_entity, declaration, form)


def _detail(request, legal_entity, declaration: Declaration, form: TerminateForm):
    scopes = permissions.scopes_of(request.user, legal_entity)
    return render(
        request,
        "declarations/declarations/detail.html",
        {
            "legal_entity": legal_entity,
            "declaration": declaration,
            "reason_text": declaration_reason_text(declaration.reason) if declaration.reason else "",
            "patient_url": _url_or_none("declarations:patient-detail", declaration.person_id),
            "request_url": _url_or_none("declarations:request-detail", declaration.declaration_request_id),
            "form_url": _url_or_none("declarations:request-form", declaration.declaration_request_id),
            "pdf_url": _url_or_none("declarations:request-form-pdf", declaration.declaration_request_id),
            "can_terminate": "declaration:terminate" in scopes and declaration.status in Declaration.CURRENT,
            "form": form,
        },
    )


def _errors_to_form(form: forms.Form, error: ValidationError) -> bool:
    """A service's errors at the form's fields ("reason", "reason_description"); False when they are
    about something the form cannot change (the declaration's status)."""
    paths = getattr(error, "error_dict", {})
    if not paths or any(field not in form.fields for field in paths):
        return False
    for field, errors in paths.items():
        form.add_error(field, errors)
    return True


def _url_or_none(name: str, *args) -> str | None:
    """A page of another flow, when it exists (its URL names are written by its own module)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- The cabinet's section ------------------------------------------------------------------------


def cabinet_section(request, legal_entity, scopes) -> dict | None:
    """What the facility cabinet shows of patients and declarations to this person (None: nothing).

    A doctor also sees their declarations against their limit and whether they accept new patients.
    """
    if not scopes & {"person:read", "declaration_request:read", "declaration:read"}:
        return None
    links = [
        (_url_or_none("declarations:patient-search"), _("Find a patient"), "person:read"),
        (_url_or_none("declarations:patient-new"), _("Register a patient"), "person:write"),
        (_url_or_none("declarations:request-list"), _("Declaration requests"), "declaration_request:read"),
        (reverse("declarations:declaration-list"), _("Declarations"), "declaration:read"),
    ]
    context = {"links": [(url, text) for url, text, scope in links if url and scope in scopes]}
    doctor = (
        Employee.objects.filter(
            legal_entity=legal_entity,
            party__user=request.user,
            employee_type="DOCTOR",
            status=Employee.Status.APPROVED,
            is_active=True,
        )
        .select_related("party")
        .first()
    )
    if doctor is not None:
        count, limit = doctor_limit_status(doctor.party)
        context["doctor"] = {
            "employee": doctor,
            "count": count,
            "limit": limit,
            "accepts_new_patients": doctor.accepts_new_patients,
            "list_url": f"{reverse('declarations:declaration-list')}?employee={doctor.pk}",
        }
    return context


# Included by declarations/urls.py (app "declarations", mounted at "/").
urlpatterns = [
    path("cabinet/declarations/", declaration_list_view, name="declaration-list"),
    path("cabinet/declarations/<uuid:declaration_id>/", declaration_detail, name="declaration-detail"),
    path(
        "cabinet/declarations/<uuid:declaration_id>/terminate/",
        declaration_terminate_view,
        name="declaration-terminate",
    ),
]
