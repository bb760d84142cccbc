"""People, their jobs at facilities and the invitations to them, each with its history of versions.

Nothing here is edited in a form: a person's and a job's data come from requests the facility made and
the person accepted, so they change only by such a request (eHealth's update mode). An operator's
changes are the services': dismissing an employee, withdrawing a waiting invitation.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page, pretty_json

from .. import services
from ..models import Employee, EmployeeRequest, Party, SupersededInvitationLink
from .history import HistoryAdmin
from .labels import code_label, dictionary_filter, phones_text, signer_html
from .registration import apply_each

EMPLOYEE_CODES = {"employee_type": "EMPLOYEE_TYPE", "position": "POSITION"}

STAFF_SOURCE_NOTE = _(
    "An employee's data come from the facility's request that the person accepted, so they change only "
    "by a new request the person accepts: education, qualifications and speciality, position, place of "
    "service. Editing them here would skip the person's consent and the request's checks. An operator "
    "can dismiss an employee (the action in the list); a head changes with the facility's registration."
)


class EmployeeLabelsMixin:
    """The role and position of an employee or an invitation, in words."""

    @admin.display(description=_("role"), ordering="employee_type")
    def employee_type_display(self, obj):
        return code_label("EMPLOYEE_TYPE", obj.employee_type)

    @admin.display(description=pgettext_lazy("job", "position"), ordering="position")
    def position_display(self, obj):
        return code_label("POSITION", obj.position)


class JobInline(EmployeeLabelsMixin, ReadOnlyAdminMixin, admin.TabularInline):
    """A person's jobs, on the person's page."""

    model = Employee
    fields = ["legal_entity", "employee_type_display", "position_display", "status", "start_date", "end_date"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    ordering = ["-start_date"]
    verbose_name_plural = _("jobs")


@admin.register(Party)
class PartyAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ["__str__", "tax_id", "birth_date", "gender_display", "user", "created_at"]
    list_filter = [dictionary_filter("gender", "GENDER", _("gender")), "no_tax_id"]
    search_fields = ["last_name", "first_name", "second_name", "tax_id", "user__email"]
    list_select_related = ["user"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "last_name",
                    "first_name",
                    "second_name",
                    "birth_date",
                    "gender_display",
                    "tax_id",
                    "no_tax_id",
                    "documents_display",
                    "phones_display",
                    "user",
                    "created_at",
                ],
                "description": _(
                    "A person's data come from the requests they accepted and change with the next one they "
                    "accept; the RNOKPP (or passport) and birth date identify the person and never change."
                ),
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]
    inlines = [JobInline]
    history_codes = {"gender": "GENDER"}

    @admin.display(description=_("gender"), ordering="gender")
    def gender_display(self, obj):
        return code_label("GENDER", obj.gender)

    @admin.display(description=_("identity documents"))
    def documents_display(self, obj):
        return pretty_json(obj.documents) if obj.documents else "—"

    @admin.display(description=_("phones"))
    def phones_display(self, obj):
        return phones_text(obj.phones)


class DismissalForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=255,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept with the employee and in its history."),
    )


@admin.register(Employee)
class EmployeeAdmin(EmployeeLabelsMixin, ReadOnlyAdminMixin, HistoryAdmin):
    list_display = [
        "party",
        "legal_entity",
        "employee_type_display",
        "position_display",
        "division",
        "status",
        "start_date",
        "end_date",
    ]
    list_filter = [
        "status",
        "is_active",
        dictionary_filter("employee_type", "EMPLOYEE_TYPE", _("role")),
        dictionary_filter("legal_entity__type", "LEGAL_ENTITY_TYPE", _("facility type")),
    ]
    search_fields = [
        "party__last_name",
        "party__first_name",
        "party__tax_id",
        "legal_entity__name",
        "legal_entity__short_name",
        "legal_entity__edrpou",
    ]
    list_select_related = ["party", "legal_entity", "division"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "party",
                    "legal_entity",
                    "division",
                    "employee_type_display",
                    "position_display",
                    "start_date",
                    "end_date",
                    "status",
                    "is_active",
                    "status_reason",
                    "speciality_display",
                    "qualifications_display",
                    "created_at",
                ],
                "description": STAFF_SOURCE_NOTE,
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]
    actions = ["dismiss"]
    history_codes = EMPLOYEE_CODES

    def has_manage_permission(self, request):
        return request.user.has_perm("registry.change_employee")

    @admin.display(description=_("main speciality"))
    def speciality_display(self, obj):
        speciality = (obj.speciality or {}).get("speciality")
        return code_label("SPECIALITY_TYPE", speciality) if speciality else "—"

    @admin.display(description=_("education and qualifications"))
    def qualifications_display(self, obj):
        return pretty_json(obj.additional_info) if obj.additional_info else "—"

    @admin.action(description=_("Dismiss the selected employees"), permissions=["manage"])
    def dismiss(self, request, queryset):
        form = DismissalForm(request.POST if "_dismiss" in request.POST else None)
        if form.is_bound and form.is_valid():
            apply_each(
                self,
                request,
                queryset.select_related("party"),
                lambda employee: services.employee_dismiss(
                    employee=employee, actor=request.user, reason=form.cleaned_data["reason"]
                ),
                lambda n: ngettext("Dismissed %(count)d employee.", "Dismissed %(count)d employees.", n),
            )
            return None
        return action_page(
            self,
            request,
            queryset,
            title=_("Dismiss employees"),
            intro=_(
                "They are dismissed today and lose the facility's rights at once. A head cannot be "
                "dismissed here: the head changes with the facility's registration data."
            ),
            form=form,
            buttons=[("_dismiss", _("Dismiss"))],
        )


class ReplacedLinkInline(ReadOnlyAdminMixin, admin.TabularInline):
    """When the invitation was sent again (its earlier links stopped working); never the links."""

    model = SupersededInvitationLink
    fields = ["superseded_at"]
    readonly_fields = fields
    extra = 0
    ordering = ["superseded_at"]


@admin.register(EmployeeRequest)
class EmployeeRequestAdmin(EmployeeLabelsMixin, ReadOnlyAdminMixin, HistoryAdmin):
    list_display = [
        "email",
        "person_display",
        "legal_entity",
        "employee_type_display",
        "position_display",
        "status",
        "signed",
        "expires_at",
        "created_at",
    ]
    list_filter = ["status", dictionary_filter("employee_type", "EMPLOYEE_TYPE", _("role"))]
    search_fields = [
        "email",
        "data__party__last_name",
        "data__party__first_name",
        "data__party__tax_id",
        "legal_entity__name",
        "legal_entity__short_name",
        "legal_entity__edrpou",
    ]
    list_select_related = ["legal_entity"]
    fieldsets = [
        (
            None,
            {
                "fields": [  # not the token's hash
                    "email",
                    "person_display",
                    "legal_entity",
                    "division",
                    "employee_type_display",
                    "position_display",
                    "status",
                    "expires_at",
                    "signed",
                    "signer_display",
                    "data_display",
                    "employee",
                    "created_at",
                    "created_by",
                    "decided_at",
                ],
                "description": _(
                    "The facility's invitation as it was made (signed, when the head grants HR access). "
                    "An operator can only withdraw a waiting one (the action in the list)."
                ),
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]
    inlines = [ReplacedLinkInline]
    actions = ["withdraw"]
    history_codes = EMPLOYEE_CODES

    def get_queryset(self, request):
        return super().get_queryset(request).defer("signed_envelope", "signed_content")

    def has_manage_permission(self, request):
        return request.user.has_perm("registry.change_employeerequest")

    @admin.display(description=_("person"))
    def person_display(self, obj):
        person = (obj.data or {}).get("party") or {}
        names = [person.get(name) for name in ("last_name", "first_name", "second_name")]
        return " ".join(name for name in names if name) or "—"

    @admin.display(description=_("signed"), boolean=True)
    def signed(self, obj):
        return bool(obj.signer)

    @admin.display(description=_("signer"))
    def signer_display(self, obj):
        return signer_html(obj.signer)

    @admin.display(description=_("request"))
    def data_display(self, obj):
        return pretty_json(obj.data)

    @admin.action(description=_("Withdraw the selected waiting invitations"), permissions=["manage"])
    def withdraw(self, request, queryset):
        apply_each(
            self,
            request,
            queryset.select_related("legal_entity"),
            lambda employee_request: services.employee_request_withdraw(
                employee_request=employee_request, actor=request.user
            ),
            lambda n: ngettext("Withdrew %(count)d invitation.", "Withdrew %(count)d invitations.", n),
        )
