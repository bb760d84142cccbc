import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from .admin_third_party import PermissionLabelsMixin
from .models import ApiKey, Email, User
from .redaction import redact_token_urls


def pretty_json(value) -> str:
    """A JSON field shown readably (and escaped) on an admin page."""
    return format_html("<pre>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2))


class ReadOnlyAdminMixin:
    """For records that change only through services (which check the state and record the operator):
    the admin shows them and offers the services as actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def action_page(modeladmin, request, queryset, *, title, intro, buttons, form=None):
    """The intermediate page of an admin action (a confirmation, a comment, a period); it posts back
    to the action with the chosen button's name."""
    return TemplateResponse(
        request,
        "admin/action_page.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "queryset": queryset,
            "form": form,
            "buttons": buttons,
            "action": request.POST["action"],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
            "media": modeladmin.media + (form.media if form else forms.Media()),
        },
    )


@admin.register(User)
class UserAdmin(PermissionLabelsMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "last_name", "first_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Person"), {"fields": ["last_name", "first_name"]}),
        (_("Access"), {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "to", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject"]
    # The bodies are shown with their token links redacted: an operator never sees a working link.
    fields = [
        "to",
        "subject",
        "text_body_redacted",
        "html_body_redacted",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "body_redacted_at",
        "created_by",
    ]
    readonly_fields = fields

    @admin.display(description=_("text"))
    def text_body_redacted(self, obj):
        return format_html("<pre>{}</pre>", redact_token_urls(obj.text_body))

    @admin.display(description=_("HTML"))
    def html_body_redacted(self, obj):
        return format_html("<pre>{}</pre>", redact_token_urls(obj.html_body))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(APIKey)  # the library's user-less key: the portal's keys belong to a user


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = ["prefix", "name", "created", "expiry_date", "has_expired", "revoked", "user"]
    search_fields = [*APIKeyModelAdmin.search_fields, "user__email"]
    autocomplete_fields = ["user"]

    @admin.display(description=_("expired"), boolean=True)
    def has_expired(self, obj):
        return obj.has_expired

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        key = self.model.objects.assign_key(obj)
        obj.save()
        # The library's message is formatted before it is translated: the portal's own, shown once.
        messages.warning(
            request,
            _("The API key for %(name)s is: %(key)s. Store it somewhere safe: it is not shown again.")
            % {"name": obj.name, "key": key},
        )
