"""Reference data: dictionaries with their values, and global parameters."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from ..models import Dictionary, DictionaryValue, GlobalParameter


class DictionaryValueInline(admin.TabularInline):
    model = DictionaryValue
    fields = ["key", "label", "position", "is_active"]
    extra = 0
    ordering = ["position", "key"]


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    list_display = ["name", "labels_display", "value_count", "is_active", "updated_at"]
    list_filter = ["is_active"]
    # Finds a dictionary by its name or by any of its keys and labels ("86.21", "терапевт").
    search_fields = ["name", "values__key", "values__label"]
    fields = ["name", "labels", "is_active", "updated_at"]
    readonly_fields = ["updated_at"]
    inlines = [DictionaryValueInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(value_count=Count("values"))

    @admin.display(description=_("values"), ordering="value_count")
    def value_count(self, obj):
        return obj.value_count

    @admin.display(description=_("labels"))
    def labels_display(self, obj):
        return ", ".join(obj.labels) or "—"


@admin.register(DictionaryValue)
class DictionaryValueAdmin(admin.ModelAdmin):
    """A flat, searchable list of all values; also serves autocomplete fields of later forms."""

    list_display = ["key", "label", "dictionary", "position", "is_active"]
    list_filter = ["is_active", "dictionary"]
    list_editable = ["is_active"]
    list_select_related = ["dictionary"]
    search_fields = ["key", "label"]
    ordering = ["dictionary__name", "position", "key"]


@admin.register(GlobalParameter)
class GlobalParameterAdmin(admin.ModelAdmin):
    list_display = ["name", "value", "description", "updated_at"]
    list_editable = ["value"]
    search_fields = ["name", "description"]
    readonly_fields = ["updated_at"]
