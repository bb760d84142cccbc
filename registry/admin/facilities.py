"""Facilities and their places of service (divisions), each with its history of versions, and the
state-register copy. They change through services (offered as actions), never in a form: a facility's
data through its signed registration data, a place of service in the facility's cabinet."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page, pretty_json

from .. import services
from ..models import Division, EdrRecord, LegalEntity
from ..places import coordinates_text
from .history import HistoryAdmin
from .labels import addresses_html, code_label, dictionary_filter, phones_text
from .registration import apply_each


class DivisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Division
    fields = ["name", "type_display", "status", "email", "latitude", "longitude"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    @admin.display(description=_("type"))
    def type_display(self, obj):
        return code_label("DIVISION_TYPE", obj.type)


@admin.register(LegalEntity)
class LegalEntityAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ["name", "edrpou", "type_display", "status", "nhs_verified", "created_at"]
    list_filter = ["status", "nhs_verified", dictionary_filter("type", "LEGAL_ENTITY_TYPE", _("type"))]
    search_fields = ["name", "short_name", "public_name", "edrpou"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "type_display",
        "edrpou",
        "name",
        "short_name",
        "public_name",
        "legal_form_display",
        "ownership_display",
        "kveds_display",
        "email",
        "phones_display",
        "website",
        "addresses_display",
        "license_display",
        "accreditation_display",
        "status",
        "is_active",
        "nhs_verified",
        "end_date",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    ]
    fields = readonly_fields
    inlines = [DivisionInline]
    actions = ["nhs_verify", "deactivate"]
    history_codes = {
        "type": "LEGAL_ENTITY_TYPE",
        "legal_form": "LEGAL_FORM",
        "owner_property_type": "OWNER_PROPERTY_TYPE",
    }

    def has_manage_permission(self, request):
        return request.user.has_perm("registry.change_legalentity")

    @admin.display(description=_("type"), ordering="type")
    def type_display(self, obj):
        return code_label("LEGAL_ENTITY_TYPE", obj.type)

    @admin.display(description=_("legal form"))
    def legal_form_display(self, obj):
        return code_label("LEGAL_FORM", obj.legal_form)

    @admin.display(description=_("ownership"))
    def ownership_display(self, obj):
        return code_label("OWNER_PROPERTY_TYPE", obj.owner_property_type)

    @admin.display(description=_("KVED codes"))
    def kveds_display(self, obj):
        return ", ".join(obj.kveds) or "—"

    @admin.display(description=_("phones"))
    def phones_display(self, obj):
        return phones_text(obj.phones)

    @admin.display(description=_("addresses"))
    def addresses_display(self, obj):
        return addresses_html(obj.addresses)

    @admin.display(description=_("licence"))
    def license_display(self, obj):
        return pretty_json(obj.license) if obj.license else "—"

    @admin.display(description=_("accreditation"))
    def accreditation_display(self, obj):
        return pretty_json(obj.accreditation) if obj.accreditation else "—"

    def _apply(self, request, queryset, service, message_plural):
        apply_each(
            self,
            request,
            queryset,
            lambda legal_entity: service(legal_entity=legal_entity, actor=request.user),
            message_plural,
        )

    @admin.action(description=_("Mark as verified by the NHS"), permissions=["manage"])
    def nhs_verify(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.legal_entity_nhs_verify,
            lambda n: ngettext("Verified %(count)d facility.", "Verified %(count)d facilities.", n),
        )

    @admin.action(description=_("Deactivate (close) the facility"), permissions=["manage"])
    def deactivate(self, request, queryset):
        if "_confirm" not in request.POST:
            return action_page(
                self,
                request,
                queryset,
                title=_("Deactivate facilities"),
                intro=_(
                    "The facilities are closed for good: their staff are dismissed and lose access to the "
                    "cabinet, pending invitations are withdrawn, and they leave the public list and the map."
                ),
                buttons=[("_confirm", _("Yes, deactivate"))],
            )
        self._apply(
            request,
            queryset,
            services.legal_entity_deactivate,
            lambda n: ngettext("Deactivated %(count)d facility.", "Deactivated %(count)d facilities.", n),
        )
        return None


@admin.register(Division)
class DivisionAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ["name", "legal_entity", "type_display", "status", "email", "created_at"]
    list_filter = [dictionary_filter("type", "DIVISION_TYPE", _("type")), "status"]
    search_fields = ["name", "legal_entity__name", "legal_entity__short_name", "legal_entity__edrpou"]
    list_select_related = ["legal_entity"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "legal_entity",
                    "name",
                    "type_display",
                    "status",
                    "addresses_display",
                    "coordinates",
                    "phones_display",
                    "email",
                    "working_hours_display",
                    "external_id",
                    "created_at",
                ],
                "description": _(
                    "The facility keeps its places of service in its cabinet. An operator can activate or "
                    "deactivate one (the actions in the list)."
                ),
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]
    actions = ["activate", "deactivate"]
    history_codes = {"type": "DIVISION_TYPE"}

    def has_manage_permission(self, request):
        return request.user.has_perm("registry.change_division")

    @admin.display(description=_("type"), ordering="type")
    def type_display(self, obj):
        return code_label("DIVISION_TYPE", obj.type)

    @admin.display(description=_("addresses"))
    def addresses_display(self, obj):
        return addresses_html(obj.addresses)

    @admin.display(description=_("location on the map"))
    def coordinates(self, obj):
        return coordinates_text(obj.latitude, obj.longitude) or "—"

    @admin.display(description=_("phones"))
    def phones_display(self, obj):
        return phones_text(obj.phones)

    @admin.display(description=_("working hours"))
    def working_hours_display(self, obj):
        return pretty_json(obj.working_hours) if obj.working_hours else "—"

    def _apply(self, request, queryset, service, message_plural):
        apply_each(
            self,
            request,
            queryset.select_related("legal_entity"),
            lambda division: service(division=division, actor=request.user),
            message_plural,
        )

    @admin.action(description=_("Activate the place of service"), permissions=["manage"])
    def activate(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.division_activate,
            lambda n: ngettext(
                "Activated %(count)d place of service.", "Activated %(count)d places of service.", n
            ),
        )

    @admin.action(description=_("Deactivate the place of service"), permissions=["manage"])
    def deactivate(self, request, queryset):
        if "_confirm" not in request.POST:
            return action_page(
                self,
                request,
                queryset,
                title=_("Deactivate places of service"),
                intro=_(
                    "The places leave the public map. The people working there stay employed: the "
                    "facility moves or dismisses them in its cabinet."
                ),
                buttons=[("_confirm", _("Yes, deactivate"))],
            )
        self._apply(
            request,
            queryset,
            services.division_deactivate,
            lambda n: ngettext(
                "Deactivated %(count)d place of service.", "Deactivated %(count)d places of service.", n
            ),
        )
        return None


@admin.register(EdrRecord)
class EdrRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The state-register copy, as `import_edr` loaded it."""

    list_display = ["code", "name", "kind", "state", "is_registered", "imported_at"]
    list_filter = ["kind", "is_registered"]
    search_fields = ["code", "name", "short_name"]
    show_full_result_count = False  # millions of rows: no COUNT(*) per page
