"""A facility's staff in its cabinet: the employees (list, one person, dismissal) and the invitations
still waiting for an answer (the newest on the staff page, all of them on their own page; send again,
withdraw).

Each page asks `cabinet_facility` for its scope once (list and detail "employee:read", dismissal
"employee:deactivate", the invitations "employee_request:read"/"employee_request:write") and looks the
employee or invitation up within that facility (404 otherwise). Writes are `services.employee_dismiss`,
`employee_request_resend` and `employee_request_withdraw`. `urlpatterns` are this flow's pages,
included by registry/urls.py.
"""

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .. import permissions, services
from ..models import Employee, EmployeeRequest
from ..payloads import STAFF_EMPLOYEE_TYPES
from ..selectors import OWNER, dictionary_choices, staff
from ..selectors.divisions import division_list
from .access import cabinet_facility

EMPLOYEES_PER_PAGE = 25
INVITATIONS_SHOWN = 10  # the newest waiting invitations on the staff page; all of them on their page
INVITATIONS_PER_PAGE = 25
PLACES_IN_SELECT = 50  # up to this many places the place filter is a list; beyond it, a search by name
ALL = "ALL"  # the status filter's "whatever the status"
# Who may read a person's RNOKPP in full: those who invite and change staff (they repeat it in an
# update request); colleagues who only read the staff list see its last four digits.
TAX_ID_SCOPE = "employee:write"


def _role_choices():
    roles = (OWNER, *STAFF_EMPLOYEE_TYPES)
    return [
        ("", _("All roles")),
        *((key, label) for key, label in dictionary_choices(name="EMPLOYEE_TYPE") if key in roles),
    ]


class StaffFilterForm(forms.Form):
    """The staff list's search and filters (all optional; no status means the working staff)."""

    q = forms.CharField(
        label=gettext_lazy("Surname, name, RNOKPP or email"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    employee_type = forms.ChoiceField(label=gettext_lazy("Role"), required=False, choices=_role_choices)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[*Employee.Status.choices, (ALL, gettext_lazy("all"))],
    )
    division = forms.ChoiceField(label=gettext_lazy("Place of service"), required=False)

    def __init__(self, *args, places, **kwargs):
        """`places`: the facility's first places (id and name), up to PLACES_IN_SELECT + 1: with more
        than PLACES_IN_SELECT, the place is found by a part of its name (or its id, from a link)."""
        super().__init__(*args, **kwargs)
        if len(places) > PLACES_IN_SELECT:
            self.fields["division"] = forms.CharField(
                label=gettext_lazy("Place of service"),
                required=False,
                max_length=255,
                help_text=gettext_lazy("A part of its name."),
                widget=forms.TextInput(attrs={"type": "search"}),
            )
        else:
            self.fields["division"].choices = [
                ("", _("All places")),
                *((str(division.pk), division.name) for division in places),
            ]

    def filters(self) -> dict:
        """What the list is filtered by: the valid values (an invalid one is ignored, and marked)."""
        data = self.cleaned_data if self.is_valid() else getattr(self, "cleaned_data", {})
        status = data.get("status") or Employee.Status.APPROVED
        place = (data.get("division") or "").strip()
        try:
            place_id = uuid.UUID(place)  # chosen from the list, or a link's
        except ValueError:
            place_id = None
        return {
            "search": data.get("q", ""),
            "employee_type": data.get("employee_type") or None,
            "status": None if status == ALL else status,
            "division_id": place_id,
            "division_name": "" if place_id else place,
        }


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Optional. Kept in the employee's history."),
    )


@never_cache
@login_required
def staff_list(request):
    legal_entity = cabinet_facility(request, "employee:read")
    scopes = permissions.scopes_of(request.user, legal_entity)
    places = list(division_list(legal_entity=legal_entity).only("id", "name")[: PLACES_IN_SELECT + 1])
    form = StaffFilterForm(request.GET, places=places)
    employees = staff.employee_pages(legal_entity=legal_entity, **form.filters())
    page = Paginator(employees, EMPLOYEES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "legal_entity": legal_entity,
        "scopes": scopes,
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "is_filtered": bool(query),
        "now": timezone.now(),
    }
    if "employee_request:read" in scopes:  # the newest; all of them on the invitations page
        waiting = staff.employee_request_list(legal_entity=legal_entity, status=EmployeeRequest.Status.NEW)
        context["invitations"] = list(waiting[:INVITATIONS_SHOWN])
        context["invitations_total"] = waiting.count()  # always: the same queries however many wait
    return render(request, "registry/employees/list.html", context)


@never_cache
@login_required
def employee_request_list(request):
    """Every invitation of the facility still waiting for an answer, newest first, a page at a time."""
    legal_entity = cabinet_facility(request, "employee_request:read")
    waiting = staff.employee_request_list(legal_entity=legal_entity, status=EmployeeRequest.Status.NEW)
    return render(
        request,
        "registry/employees/invitations.html",
        {
            "legal_entity": legal_entity,
            "scopes": permissions.scopes_of(request.user, legal_entity),
            "page": Paginator(waiting, INVITATIONS_PER_PAGE).get_page(request.GET.get("page")),
            "now": timezone.now(),
        },
    )


@never_cache
@login_required
def employee_detail(request, employee_id):
    legal_entity = cabinet_facility(request, "employee:read")
    employee = staff.employee_get(legal_entity=legal_entity, employee_id=employee_id)
    scopes = permissions.scopes_of(request.user, legal_entity)
    return render(
        request,
        "registry/employees/detail.html",
        {
            "legal_entity": legal_entity,
            "employee": employee,
            "doctor": employee.additional_info or {},
            "tax_id": _tax_id_shown(employee.party.tax_id, full=TAX_ID_SCOPE in scopes),
            "history": staff.employee_history(employee=employee),
            "can_dismiss": "employee:deactivate" in scopes and _is_dismissable(employee),
        },
    )


@never_cache
@login_required
def employee_dismiss(request, employee_id):
    """The confirmation page (GET) and the dismissal (POST); the head is refused by the service."""
    legal_entity = cabinet_facility(request, "employee:deactivate")
    employee = staff.employee_get(legal_entity=legal_entity, employee_id=employee_id)
    form = DismissForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            services.employee_dismiss(
                employee=employee, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            form.add_error(None, error.messages)
        else:
            messages.success(request, _("%(name)s is dismissed.") % {"name": employee.party})
            if employee.party.user_id == request.user.pk:  # they dismissed themselves: no rights left here
                return redirect("registry:cabinet")
            return redirect("registry:employee-detail", employee_id=employee.pk)
    return render(
        request,
        "registry/employees/dismiss.html",
        {
            "legal_entity": legal_entity,
            "employee": employee,
            "form": form,
            "is_head": employee.employee_type == OWNER,
            "is_dismissed": employee.status != Employee.Status.APPROVED or not employee.is_active,
            "is_self": employee.party.user_id == request.user.pk,
        },
    )


@login_required
@require_POST
def employee_request_resend(request, employee_request_id):
    return _invitation_action(
        request,
        employee_request_id,
        services.employee_request_resend,
        _("The invitation was sent to %(email)s again with a new link; the previous link no longer works."),
    )


@login_required
@require_POST
def employee_request_withdraw(request, employee_request_id):
    return _invitation_action(
        request,
        employee_request_id,
        services.employee_request_withdraw,
        _("The invitation to %(email)s is withdrawn: its link no longer works."),
    )


def _invitation_action(request, employee_request_id, action, done_message: str):
    """`action` (resend, withdraw) on one of the facility's invitations; the outcome as a message
    (`done_message` names the invitee's `email`), then back to the invitations' page."""
    legal_entity = cabinet_facility(request, "employee_request:write")
    employee_request = staff.employee_request_get(
        legal_entity=legal_entity, employee_request_id=employee_request_id
    )
    try:
        action(employee_request=employee_request, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done_message % {"email": employee_request.email})
    return redirect("registry:employee-request-list")


def _is_dismissable(employee: Employee) -> bool:
    return (
        employee.employee_type != OWNER and employee.status == Employee.Status.APPROVED and employee.is_active
    )


def _tax_id_shown(tax_id: str, *, full: bool) -> str:
    """The RNOKPP (or passport number) in full, or its last four characters after dots."""
    if full or len(tax_id) <= 4:
        return tax_id
    return "•" * (len(tax_id) - 4) + tax_id[-4:]


# Included by registry/urls.py in the section of this flow (employees and their invitations).
urlpatterns = [
    path("cabinet/staff/", staff_list, name="staff-list"),
    path("cabinet/staff/<uuid:employee_id>/", employee_detail, name="employee-detail"),
    path("cabinet/staff/<uuid:employee_id>/dismiss/", employee_dismiss, name="employee-dismiss"),
    path("cabinet/staff/invitations/", employee_request_list, name="employee-request-list"),
    path(
        "cabinet/staff/invitations/<uuid:employee_request_id>/resend/",
        employee_request_resend,
        name="employee-request-resend",
    ),
    path(
        "cabinet/staff/invitations/<uuid:employee_request_id>/withdraw/",
        employee_request_withdraw,
        name="employee-request-withdraw",
    ),
]
