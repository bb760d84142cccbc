"""The cabinet's places of service (`/cabinet/divisions/`): the list, one place, adding and changing one
(address with the map, contacts, working hours), activating and deactivating it.

Rights: reading `division:read`, adding and changing `division:write`, `division:activate` and
`division:deactivate` for the buttons (registry.permissions). A place of another facility is 404.
Writes → `services.division_*` (validated by eHealth's division payload, recorded with the user).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from .. import payloads, permissions, services
from ..forms.divisions import WEEKDAY_LABELS, DivisionForm, working_hours_text
from ..forms.fields import dictionary_field_choices
from ..models import Division
from ..selectors.divisions import division_get, division_list, division_working_employees_count
from .access import cabinet_facility

DIVISION_TYPES = dictionary_field_choices(
    "DIVISION_TYPE", keys=lambda: list(payloads.MSP_DIVISION_TYPES), blank=False
)


class DivisionFilterForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name contains"), max_length=255, required=False)
    type = forms.ChoiceField(
        label=gettext_lazy("Type"),
        required=False,
        choices=lambda: [("", gettext_lazy("Any")), *DIVISION_TYPES()],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[("", gettext_lazy("Any")), *Division.Status.choices],
    )


@login_required
def divisions(request):
    legal_entity = cabinet_facility(request, "division:read")
    form = DivisionFilterForm(request.GET or None)
    filters = {name: value for name, value in form.cleaned_data.items() if value} if form.is_valid() else {}
    return render(
        request,
        "registry/divisions/list.html",
        {
            "legal_entity": legal_entity,
            "form": form,
            "is_filtered": bool(filters),
            "divisions": division_list(legal_entity=legal_entity, **filters),
            "scopes": permissions.scopes_of(request.user, legal_entity),
        },
    )


@login_required
def division_detail(request, division_id):
    legal_entity = cabinet_facility(request, "division:read")
    division = division_get(legal_entity=legal_entity, division_id=division_id)
    hours = division.working_hours or {}
    return render(
        request,
        "registry/divisions/detail.html",
        {
            "legal_entity": legal_entity,
            "division": division,
            "working_hours": [
                (label, working_hours_text(hours.get(day))) for day, label in WEEKDAY_LABELS.items()
            ],
            "working_employees": division_working_employees_count(division=division),
            "scopes": permissions.scopes_of(request.user, legal_entity),
        },
    )


@login_required
def division_create(request):
    legal_entity = cabinet_facility(request, "division:write")
    return _form_page(
        request,
        DivisionForm(request.POST or None),
        legal_entity=legal_entity,
        division=None,
        save=lambda form: services.division_create(
            legal_entity=legal_entity, actor=request.user, data=form.payload_part()["division"]
        ),
        saved_message=_("The place of service is added."),
    )


@login_required
def division_edit(request, division_id):
    legal_entity = cabinet_facility(request, "division:write")
    division = division_get(legal_entity=legal_entity, division_id=division_id)
    return _form_page(
        request,
        DivisionForm(request.POST or None, initial=DivisionForm.initial_from_division(division)),
        legal_entity=legal_entity,
        division=division,
        # The whole form: what was cleared (the location, a day's hours) is removed.
        save=lambda form: services.division_update(
            division=division, actor=request.user, data=form.division_data()
        ),
        saved_message=_("The changes are saved."),
    )


@require_POST
@login_required
def division_activate(request, division_id):
    return _status_change(request, division_id, "division:activate", services.division_activate)


@require_POST
@login_required
def division_deactivate(request, division_id):
    return _status_change(request, division_id, "division:deactivate", services.division_deactivate)


def _status_change(request, division_id, scope: str, change):
    legal_entity = cabinet_facility(request, scope)
    division = division_get(legal_entity=legal_entity, division_id=division_id)
    try:
        division = change(division=division, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if division.status == Division.Status.ACTIVE:
            messages.success(request, _("The place of service is active: patients see it on the map."))
        else:
            messages.success(request, _("The place of service is deactivated: it is no longer on the map."))
    return redirect("registry:division-detail", division_id=division.pk)


def _form_page(request, form: DivisionForm, *, legal_entity, division, save, saved_message: str):
    """The form to add or change a place (`division`, None for a new one); a valid POST is saved by
    `save(form)`, which returns the place, and leads to its page."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as error:
            # The service's refusals (the form has checked the payload already): above the form.
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, saved_message)
            return redirect("registry:division-detail", division_id=saved.pk)
    return render(
        request,
        "registry/divisions/form.html",
        {"legal_entity": legal_entity, "division": division, "form": form},
    )


# Included by registry/urls.py in the section of this flow (places of service).
urlpatterns = [
    path("cabinet/divisions/", divisions, name="division-list"),
    path("cabinet/divisions/new/", division_create, name="division-create"),
    path("cabinet/divisions/<uuid:division_id>/", division_detail, name="division-detail"),
    path("cabinet/divisions/<uuid:division_id>/edit/", division_edit, name="division-edit"),
    path("cabinet/divisions/<uuid:division_id>/activate/", division_activate, name="division-activate"),
    path("cabinet/divisions/<uuid:division_id>/deactivate/", division_deactivate, name="division-deactivate"),
]
