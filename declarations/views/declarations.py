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
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registry import permissions
from registry.models import Employee
from registry.views.access import cabinet_facility

from ..forms.errors import add_service_errors
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
            others = add_service_errors(form, error, {name: name for name in form.fields})
            if others:  # the declaration's status: no form to correct
                messages.error(request, " ".join(others))
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
    request_id = declaration.declaration_request_id
    return render(
        request,
        "declarations/declarations/detail.html",
        {
            "legal_entity": legal_entity,
            "declaration": declaration,
            "reason_text": declaration_reason_text(declaration.reason) if declaration.reason else "",
            "patient_url": reverse("declarations:patient-detail", args=[declaration.person_id]),
            "request_url": reverse("declarations:request-detail", args=[request_id]),
            "form_url": reverse("declarations:request-form", args=[request_id]),
            "pdf_url": reverse("declarations:request-form-pdf", args=[request_id]),
            "can_terminate": "declaration:terminate" in scopes and declaration.status in Declaration.CURRENT,
            "form": form,
        },
    )


# --- The cabinet's section ------------------------------------------------------------------------


def cabinet_section(request, legal_entity, scopes) -> dict | None:
    """What the facility cabinet shows of patients and declarations to this person (None: nothing).

    A doctor also sees their declarations against their limit and whether they accept new patients.
    """
    if not scopes & {"person:read", "declaration_request:read", "declaration:read"}:
        return None
    links = [
        ("declarations:patient-search", _("Find a patient"), "person:read"),
        ("declarations:patient-new", _("Register a patient"), "person:write"),
        ("declarations:request-list", _("Declaration requests"), "declaration_request:read"),
        ("declarations:declaration-list", _("Declarations"), "declaration:read"),
    ]
    context = {"links": [(reverse(name), text) for name, text, scope in links if scope in scopes]}
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
