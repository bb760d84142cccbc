"""The Diia registers: administrative services (with their legal terms) and CNAPs."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from ehealth_portal.admin import pretty_json

from ..models import AdministrativeService, Cnap, ServiceVariation


class ServiceVariationInline(admin.TabularInline):
    model = ServiceVariation
    fields = [
        "identifier",
        "name",
        "legal_term_days",
        "legal_term_working_days",
        "legal_term_text",
        "is_active",
    ]
    extra = 0


@admin.register(AdministrativeService)
class AdministrativeServiceAdmin(admin.ModelAdmin):
    list_display = ["identifier", "name", "owner_name", "variation_count", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["identifier", "name"]
    fields = [
        "identifier",
        "name",
        "owner_name",
        "owner_code",
        "provider_names",
        "register_id",
        "is_active",
        "raw_entry",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["raw_entry", "created_at", "updated_at"]
    inlines = [ServiceVariationInline]

    def get_readonly_fields(self, request, obj=None):
        # Appeals refer to a service by its identifier: once stored it never changes.
        return [*self.readonly_fields, "identifier"] if obj else self.readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(variation_count=Count("variations"))

    @admin.display(description=_("variations"), ordering="variation_count")
    def variation_count(self, obj):
        return obj.variation_count

    @admin.display(description=_("register entry"))
    def raw_entry(self, obj):
        return pretty_json(obj.raw)


@admin.register(Cnap)
class CnapAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "region", "state", "is_active", "updated_at"]
    list_filter = ["region", "is_active"]
    search_fields = ["code", "name"]
    fields = [
        "code",
        "name",
        "region",
        "address",
        "latitude",
        "longitude",
        "state",
        "is_active",
        "raw_entry",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["raw_entry", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # Appeals refer to a CNAP by its code: once stored it never changes.
        return [*self.readonly_fields, "code"] if obj else self.readonly_fields

    @admin.display(description=_("registry entry"))
    def raw_entry(self, obj):
        return pretty_json(obj.raw)
