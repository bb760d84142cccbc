from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page, pretty_json

from . import services
from .models import (
    ApplicationCheck,
    Dictionary,
    DictionaryValue,
    Division,
    EdrRecord,
    Employee,
    EmployeeRequest,
    GlobalParameter,
    LegalEntity,
    Party,
    RegistrationApplication,
)

# --- Reference data -------------------------------------------------------------------------------


class DictionaryValueInline(admin.TabularInline):
    model = DictionaryValue
    fields = ["key", "label", "position", "is_active"]
    extra = 0
    ordering = ["position", "key"]


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    list_display = ["name", "labels", "value_count", "is_active", "updated_at"]
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


# --- Facility registration ------------------------------------------------------------------------
# These records change only through services (which check the state and record the operator), so the
# admin shows them read-only and offers the services as actions.


def _apply_each(modeladmin, request, queryset, call, message_plural) -> None:
    """Run `call(obj)` (a service) for every selected object; report the successes and each refusal."""
    done, errors = 0, []
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except ValidationError as error:
            errors.append(f"{obj}: {' '.join(error.messages)}")
    _report(modeladmin, request, done, errors, message_plural)


def _report(modeladmin, request, done: int, errors: list[str], message_plural) -> None:
    if done:
        modeladmin.message_user(request, message_plural(done) % {"count": done}, messages.SUCCESS)
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)


class ApplicationCheckInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ApplicationCheck
    fields = ["created_at", "step", "outcome", "details_display", "created_by"]
    readonly_fields = fields
    extra = 0
    ordering = ["created_at", "pk"]

    @admin.display(description=_("details"))
    def details_display(self, obj):
        return pretty_json(obj.details)


class DecisionForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required to reject: the applicant receives it as the reason."),
    )


@admin.register(RegistrationApplication)
class RegistrationApplicationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["submitted_at", "edrpou", "name", "email", "channel", "status", "decided_at"]
    list_filter = ["status", "channel"]
    search_fields = ["edrpou", "name", "email"]
    date_hierarchy = "submitted_at"
    fields = [
        "status",
        "channel",
        "edrpou",
        "name",
        "email",
        "submitted_at",
        "submitted_by",
        "reasons_display",
        "legal_entity",
        "decided_at",
        "decided_by",
        "signer_display",
        "evidence",
        "data_display",
    ]
    readonly_fields = fields
    inlines = [ApplicationCheckInline]
    actions = ["recheck", "decide"]

    def get_urls(self):
        return [
            path(
                "<uuid:application_id>/evidence/<str:kind>/",
                self.admin_site.admin_view(self.evidence_view),
                name="registry_registrationapplication_evidence",
            ),
            *super().get_urls(),
        ]

    def evidence_view(self, request, application_id, kind):
        """The signature as uploaded (.p7s) or the document the head signed (.json)."""
        application = get_object_or_404(RegistrationApplication, pk=application_id)
        if not self.has_view_permission(request, application):
            raise PermissionDenied
        if kind == "signature":
            body, content_type, extension = (
                bytes(application.signed_envelope),
                "application/pkcs7-signature",
                "p7s",
            )
        elif kind == "document":
            body, content_type, extension = bytes(application.signed_content), "application/json", "json"
        else:
            raise PermissionDenied
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="application-{application.edrpou}-{application.pk}.{extension}"'
        )
        return response

    @admin.display(description=_("signed evidence"))
    def evidence(self, obj):
        links = [
            (reverse("admin:registry_registrationapplication_evidence", args=[obj.pk, kind]), label)
            for kind, label in (
                ("signature", _("signature (.p7s)")),
                ("document", _("signed document (.json)")),
            )
        ]
        return format_html_join(" · ", '<a href="{}" download>{}</a>', links)

    @admin.display(description=_("signer"))
    def signer_display(self, obj):
        signer = obj.signer or {}
        if not signer:
            return "—"
        return format_html(
            "{} {} · {} {} · {} {}",
            signer.get("surname") or "",
            signer.get("given_names") or "",
            _("RNOKPP"),
            signer.get("drfo") or "—",
            _("EDRPOU"),
            signer.get("edrpou") or "—",
        )

    @admin.display(description=_("reasons"))
    def reasons_display(self, obj):
        if not obj.reasons:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} <code>{}</code></li>", ((r["message"], r["code"]) for r in obj.reasons)
            ),
        )

    @admin.display(description=_("submitted data"))
    def data_display(self, obj):
        return pretty_json(obj.data)

    def has_decide_permission(self, request):
        return request.user.has_perm("registry.change_registrationapplication")

    @admin.action(description=_("Re-run the checks"), permissions=["decide"])
    def recheck(self, request, queryset):
        _apply_each(
            self,
            request,
            queryset,
            lambda application: services.registration_application_recheck(
                application=application, actor=request.user
            ),
            lambda n: ngettext(
                "Checked %(count)d application again.", "Checked %(count)d applications again.", n
            ),
        )

    @admin.action(description=_("Decide waiting sole-proprietor applications"), permissions=["decide"])
    def decide(self, request, queryset):
        queryset = queryset.filter(status=RegistrationApplication.Status.WAITING_OPERATOR)
        if not queryset:
            self.message_user(
                request, _("None of the selected applications waits for an operator."), messages.WARNING
            )
            return None
        form = DecisionForm(
            request.POST if ("_approve" in request.POST or "_reject" in request.POST) else None
        )
        if form.is_bound and form.is_valid():
            approve = "_approve" in request.POST
            done, errors = 0, []
            for application in queryset:
                try:
                    services.registration_application_decide(
                        application=application,
                        approve=approve,
                        actor=request.user,
                        comment=form.cleaned_data["comment"],
                    )
                    done += 1
                except ValidationError as error:
                    if hasattr(error, "error_dict") and "comment" in error.error_dict:
                        form.add_error("comment", error.error_dict["comment"])
                        break
                    errors.append(f"{application}: {' '.join(error.messages)}")
            else:
                _report(
                    self,
                    request,
                    done,
                    errors,
                    lambda n: ngettext(
                        "Decided %(count)d application.", "Decided %(count)d applications.", n
                    ),
                )
                return None
        return action_page(
            self,
            request,
            queryset,
            title=_("Decide waiting applications"),
            intro=_(
                "The state register could not identify these sole proprietors by name. Check the candidates in "
                "each application's check log, then approve (the facility is registered and the head invited) "
                "or reject with a comment."
            ),
            form=form,
            buttons=[("_approve", _("Approve")), ("_reject", _("Reject"))],
        )


class DivisionInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Division
    fields = ["name", "type", "status", "email", "latitude", "longitude"]
    readonly_fields = fields
    extra = 0


@admin.register(LegalEntity)
class LegalEntityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "edrpou", "type", "status", "nhs_verified", "created_at"]
    list_filter = ["status", "nhs_verified", "type"]
    search_fields = ["name", "short_name", "public_name", "edrpou"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "id",
        "type",
        "edrpou",
        "name",
        "short_name",
        "public_name",
        "legal_form",
        "owner_property_type",
        "kveds",
        "email",
        "phones",
        "website",
        "addresses",
        "license",
        "accreditation",
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

    def _apply(self, request, queryset, service, message_plural):
        _apply_each(
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


@admin.register(Party)
class PartyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "tax_id", "birth_date", "user", "created_at"]
    search_fields = ["last_name", "first_name", "tax_id", "user__email"]
    list_select_related = ["user"]


@admin.register(Employee)
class EmployeeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["party", "legal_entity", "employee_type", "position", "status", "is_active", "start_date"]
    list_filter = ["status", "is_active", "employee_type"]
    search_fields = ["party__last_name", "party__tax_id", "legal_entity__name", "legal_entity__edrpou"]
    list_select_related = ["party", "legal_entity"]


@admin.register(EmployeeRequest)
class EmployeeRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "legal_entity",
        "employee_type",
        "position",
        "status",
        "expires_at",
        "created_at",
    ]
    list_filter = ["status", "employee_type"]
    search_fields = ["email", "legal_entity__name", "legal_entity__edrpou"]
    list_select_related = ["legal_entity"]
    exclude = ["token_hash"]
