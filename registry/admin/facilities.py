"""Facilities (with their divisions) and the state-register copy."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page, pretty_json

from .. import services
from ..models import Division, EdrRecord, LegalEntity
from .labels import addresses_html, code_label, dictionary_filter, phones_text
from .registration import apply_each


class DivisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Division
    fields = ["name", "type_display", "status", "email", "latitude", "longitude"]
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("type"))
    def type_display(self, obj):
        return code_label("DIVISION_TYPE", obj.type)


@admin.register(LegalEntity)
class LegalEntityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


@admin.register(EdrRecord)
class EdrRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The state-register copy, as `import_edr` loaded it."""

    list_display = ["code", "name", "kind", "state", "is_registered", "imported_at"]
    list_filter = ["kind", "is_registered"]
    search_fields = ["code", "name", "short_name"]
    show_full_result_count = False  # millions of rows: no COUNT(*) per page
