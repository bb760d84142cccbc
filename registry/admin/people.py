"""People, their jobs at facilities and the invitations to them."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ehealth_portal.admin import ReadOnlyAdminMixin, pretty_json

from ..models import Employee, EmployeeRequest, Party
from .labels import code_label, dictionary_filter, phones_text


@admin.register(Party)
class PartyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "tax_id", "birth_date", "user", "created_at"]
    search_fields = ["last_name", "first_name", "tax_id", "user__email"]
    list_select_related = ["user"]
    fields = [
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
    ]
    readonly_fields = fields

    @admin.display(description=_("gender"))
    def gender_display(self, obj):
        return code_label("GENDER", obj.gender)

    @admin.display(description=_("identity documents"))
    def documents_display(self, obj):
        return pretty_json(obj.documents) if obj.documents else "—"

    @admin.display(description=_("phones"))
    def phones_display(self, obj):
        return phones_text(obj.phones)


class EmployeeLabelsMixin:
    """The role and position of an employee or an invitation, in words."""

    @admin.display(description=_("role"), ordering="employee_type")
    def employee_type_display(self, obj):
        return code_label("EMPLOYEE_TYPE", obj.employee_type)

    @admin.display(description=_("position"), ordering="position")
    def position_display(self, obj):
        return code_label("POSITION", obj.position)


@admin.register(Employee)
class EmployeeAdmin(EmployeeLabelsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "party",
        "legal_entity",
        "employee_type_display",
        "position_display",
        "status",
        "is_active",
        "start_date",
    ]
    list_filter = ["status", "is_active", dictionary_filter("employee_type", "EMPLOYEE_TYPE", _("role"))]
    search_fields = ["party__last_name", "party__tax_id", "legal_entity__name", "legal_entity__edrpou"]
    list_select_related = ["party", "legal_entity"]
    fields = [
        "party",
        "legal_entity",
        "division",
        "employee_type_display",
        "position_display",
        "start_date",
        "end_date",
        "status",
        "is_active",
        "qualifications_display",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("education and qualifications"))
    def qualifications_display(self, obj):
        return pretty_json(obj.additional_info) if obj.additional_info else "—"


@admin.register(EmployeeRequest)
class EmployeeRequestAdmin(EmployeeLabelsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "legal_entity",
        "employee_type_display",
        "position_display",
        "status",
        "expires_at",
        "created_at",
    ]
    list_filter = ["status", dictionary_filter("employee_type", "EMPLOYEE_TYPE", _("role"))]
    search_fields = ["email", "legal_entity__name", "legal_entity__edrpou"]
    list_select_related = ["legal_entity"]
    fields = [  # not the token's hash
        "email",
        "legal_entity",
        "division",
        "employee_type_display",
        "position_display",
        "status",
        "expires_at",
        "data_display",
        "employee",
        "created_at",
        "created_by",
        "decided_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("request"))
    def data_display(self, obj):
        return pretty_json(obj.data)
