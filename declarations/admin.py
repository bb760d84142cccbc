"""The operators' admin of declarations: patients, declaration requests with the scans the patients
brought, declarations (verifying the ones that wait for it), SMS codes and the SMS outbox.

Nothing here is edited in a form: these records change through services (which check the state and
record the operator), offered as actions. What must never reach an operator is never shown: the
patients' secret words (not in a patient's page, a request's document or any version), SMS codes
(their hashes, and the codes in the messages' text).
"""

import re

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models.fields.json import KT
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import ModelChange

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page, pretty_json
from ehealth_portal.admin_site import dashboard_figure
from registry.admin.history import HistoryAdmin, VersionChanges, change_reason_text
from registry.admin.labels import addresses_html, code_label, signer_html
from registry.admin.person_fields import PersonFieldsAdminMixin
from registry.admin.registration import apply_each

from .models import (
    Declaration,
    DeclarationRequest,
    DeclarationRequestDocument,
    Person,
    SmsMessage,
    Verification,
)
from .selectors.declarations import declarations_pending_verification_count
from .services.declarations import declaration_reason_text, declaration_verify

# Why a service changed many declarations at once (`update_recorded(reason=…)`), beyond the registry's.
CHANGE_REASONS = {"employee dismissed": _("the doctor was dismissed")}
SCAN_TYPES = {"image/jpeg", "image/png", "application/pdf"}  # what the upload lets in, by content
_CODE = re.compile(r"\d{4,}")


def without_secrets(value):
    """A document with every "secret" (the patient's and the confidants' secret words) taken out."""
    if isinstance(value, dict):
        return {key: without_secrets(item) for key, item in value.items() if key != "secret"}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def code_redacted(text: str) -> str:
    """An SMS text with its code (any run of four or more digits) hidden."""
    return _CODE.sub(lambda found: "•" * len(found.group()), text or "")


class SecretlessVersionChanges(VersionChanges):
    """What a version changed, with the secrets inside documents taken out."""

    def format_delta_change(self, change: ModelChange) -> ModelChange:
        return super().format_delta_change(
            ModelChange(field=change.field, old=without_secrets(change.old), new=without_secrets(change.new))
        )


class DeclarationsHistoryAdmin(HistoryAdmin):
    """The registry's pages of versions, with this app's reasons for bulk changes and no secrets."""

    def get_historical_record_context_helper(self, request, historical_record):
        return SecretlessVersionChanges(self.model, historical_record, codes=self.history_codes)

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        super().set_history_delta_changes(request, historical_records, foreign_keys_are_objs)
        for record in historical_records:
            reason = record.history_change_reason
            record.change_reason_text = CHANGE_REASONS.get(reason) or change_reason_text(reason)


# --- Patients -------------------------------------------------------------------------------------


class DeclarationInline(ReadOnlyAdminMixin, admin.TabularInline):
    """A patient's declarations, on the patient's page."""

    model = Declaration
    fields = ["declaration_number", "status", "employee", "legal_entity", "signed_at", "end_date"]
    readonly_fields = fields
    extra = 0
    show_change_link = True
    ordering = ["-signed_at"]
    verbose_name_plural = _("declarations")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("employee__party", "legal_entity")


@admin.register(Person)
class PersonAdmin(PersonFieldsAdminMixin, ReadOnlyAdminMixin, DeclarationsHistoryAdmin):
    list_display = ["__str__", "birth_date", "tax_id", "authentication_method", "is_active", "created_at"]
    list_filter = ["authentication_method", "is_active"]
    search_fields = ["last_name", "first_name", "=tax_id", "=authentication_phone"]
    fieldsets = [
        (
            None,
            {
                "fields": [  # never the secret word
                    "last_name",
                    "first_name",
                    "second_name",
                    "birth_date",
                    "birth_country",
                    "birth_settlement",
                    "gender_display",
                    "tax_id",
                    "no_tax_id",
                    "unzr",
                    "documents_display",
                    "addresses_display",
                    "phones_display",
                    "email",
                    "preferred_way_communication",
                    "emergency_contact_display",
                    "confidant_person_display",
                    "authentication_method",
                    "authentication_phone",
                    "is_active",
                    "created_at",
                    "created_by",
                ],
                "description": _(
                    "A patient's data come from the facility that registered them; they change in the "
                    "facility's cabinet. The secret word is known only to the patient and their doctor."
                ),
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]
    inlines = [DeclarationInline]
    history_codes = {"gender": "GENDER"}

    @admin.display(description=_("addresses"))
    def addresses_display(self, obj):
        return addresses_html(obj.addresses)

    @admin.display(description=_("emergency contact"))
    def emergency_contact_display(self, obj):
        return pretty_json(without_secrets(obj.emergency_contact)) if obj.emergency_contact else "—"

    @admin.display(description=_("confidant persons"))
    def confidant_person_display(self, obj):
        return pretty_json(without_secrets(obj.confidant_person)) if obj.confidant_person else "—"


# --- Declaration requests and their scans ----------------------------------------------------------


def _scan_links(declaration_request_id, scans):
    """Links to a request's scans (each opens in a new tab), with its document type and size."""
    links = [
        (
            reverse("admin:declarations_declarationrequest_scan", args=[declaration_request_id, scan.pk]),
            scan.type,
            filesizeformat(scan.size),
        )
        for scan in scans
    ]
    if not links:
        return "—"
    return format_html(
        "<ul>{}</ul>",
        format_html_join(
            "", '<li><a href="{}" target="_blank" rel="noopener"><code>{}</code></a> ({})</li>', links
        ),
    )


_REQUEST_LARGE_FIELDS = ("data", "printout_content", "signed_envelope", "signed_content")


@admin.register(DeclarationRequest)
class DeclarationRequestAdmin(ReadOnlyAdminMixin, DeclarationsHistoryAdmin):
    list_display = [
        "declaration_number",
        "person_display",
        "legal_entity",
        "employee",
        "status",
        "channel",
        "created_at",
        "expires_at",
    ]
    list_filter = ["status", "channel"]
    search_fields = [
        "=declaration_number",
        "person__last_name",
        "legal_entity__name",
        "=legal_entity__edrpou",
    ]
    list_select_related = ["legal_entity", "employee__party"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "declaration_number",
                    "status",
                    "channel",
                    "person_display",
                    "person",
                    "legal_entity",
                    "employee",
                    "division",
                    "start_date",
                    "end_date",
                    "overlimit",
                    "authentication_display",
                    "documents_display",
                    "scans_display",
                    "expires_at",
                    "signer_display",
                    "declaration_link",
                    "data_display",
                    "created_at",
                    "created_by",
                    "updated_at",
                    "updated_by",
                ],
                "description": _(
                    "The request as the facility made it, without the patient's secret word. It changes "
                    "only in the facility's cabinet or through its medical information system."
                ),
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]

    def get_queryset(self, request):
        # The patient's names from the request's document, not the whole document (the list's rows).
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                person_last_name=KT("data__person__last_name"),
                person_first_name=KT("data__person__first_name"),
                person_second_name=KT("data__person__second_name"),
            )
        )
        match = request.resolver_match
        listing = match is not None and (match.url_name or "").endswith("_changelist")
        return queryset.defer(*_REQUEST_LARGE_FIELDS[0 if listing else 1 :])

    def get_urls(self):
        return [
            path(
                "<uuid:declaration_request_id>/scans/<int:scan_id>/",
                self.admin_site.admin_view(self.scan_view),
                name="declarations_declarationrequest_scan",
            ),
            *super().get_urls(),
        ]

    def scan_view(self, request, declaration_request_id, scan_id):
        """A scan the patient brought, shown in the browser (sandboxed: nothing in it runs here)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        scan = get_object_or_404(
            DeclarationRequestDocument, pk=scan_id, declaration_request_id=declaration_request_id
        )
        try:
            file = scan.file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        inline = scan.content_type in SCAN_TYPES
        response = FileResponse(
            file,
            content_type=scan.content_type if inline else "application/octet-stream",
            as_attachment=not inline,
            filename=scan.file.name.rsplit("/", 1)[-1],
        )
        response["Content-Security-Policy"] = "sandbox"
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("patient"))
    def person_display(self, obj):
        names = [getattr(obj, f"person_{name}", None) for name in ("last_name", "first_name", "second_name")]
        return " ".join(name for name in names if name) or "—"

    @admin.display(description=_("how the patient confirms"))
    def authentication_display(self, obj):
        method = obj.authentication_method_current or {}
        if not method:
            return "—"
        label = code_label("AUTHENTICATION_METHOD", method.get("type"))
        return f"{label} {method['number']}" if method.get("number") else label

    @admin.display(description=_("documents to upload"))
    def documents_display(self, obj):
        return (
            ", ".join(
                str(item.get("type", item)) if isinstance(item, dict) else str(item) for item in obj.documents
            )
            or "—"
        )

    @admin.display(description=_("scans"))
    def scans_display(self, obj):
        return _scan_links(obj.pk, obj.uploads.order_by("type"))

    @admin.display(description=_("signer"))
    def signer_display(self, obj):
        return signer_html(obj.signer)

    @admin.display(description=_("declaration"))
    def declaration_link(self, obj):
        declaration = (
            Declaration.objects.filter(declaration_request=obj).only("pk", "declaration_number").first()
        )
        if declaration is None:
            return "—"
        url = reverse("admin:declarations_declaration_change", args=[declaration.pk])
        return format_html('<a href="{}">{}</a>', url, declaration.declaration_number)

    @admin.display(description=_("request"))
    def data_display(self, obj):
        return pretty_json(without_secrets(obj.data))


# --- Declarations ---------------------------------------------------------------------------------


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdminMixin, DeclarationsHistoryAdmin):
    list_display = [
        "declaration_number",
        "person",
        "employee",
        "legal_entity",
        "status",
        "reason_display",
        "signed_at",
        "end_date",
    ]
    list_filter = ["status", "overlimit"]
    search_fields = [
        "=declaration_number",
        "person__last_name",
        "=person__tax_id",
        "legal_entity__name",
        "=legal_entity__edrpou",
    ]
    list_select_related = ["person", "employee__party", "legal_entity"]
    date_hierarchy = "signed_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "declaration_number",
                    "status",
                    "reason_display",
                    "reason_description",
                    "person",
                    "employee",
                    "division",
                    "legal_entity",
                    "start_date",
                    "end_date",
                    "overlimit",
                    "signed_at",
                    "request_link",
                    "scans_display",
                    "created_at",
                    "created_by",
                    "updated_at",
                    "updated_by",
                ],
                "description": _(
                    "A declaration that waits for verification was confirmed by the patient with "
                    "documents: check the scans, then verify or reject it (the actions in the list)."
                ),
            },
        )
    ]
    readonly_fields = fieldsets[0][1]["fields"]
    actions = ["verify", "reject"]

    def has_manage_permission(self, request):
        return request.user.has_perm("declarations.change_declaration")

    @admin.display(description=_("reason"), ordering="reason")
    def reason_display(self, obj):
        return declaration_reason_text(obj.reason) if obj.reason else "—"

    @admin.display(description=_("request"))
    def request_link(self, obj):
        url = reverse("admin:declarations_declarationrequest_change", args=[obj.declaration_request_id])
        return format_html('<a href="{}">{}</a>', url, obj.declaration_number)

    @admin.display(description=_("scans"))
    def scans_display(self, obj):
        scans = DeclarationRequestDocument.objects.filter(declaration_request_id=obj.declaration_request_id)
        return _scan_links(obj.declaration_request_id, scans.order_by("type"))

    def _verify(self, request, queryset, *, approve: bool, message_plural):
        apply_each(
            self,
            request,
            queryset.select_related("person"),
            lambda declaration: declaration_verify(
                declaration=declaration, actor=request.user, approve=approve
            ),
            message_plural,
        )

    @admin.action(description=_("Verify the selected declarations"), permissions=["manage"])
    def verify(self, request, queryset):
        self._verify(
            request,
            queryset,
            approve=True,
            message_plural=lambda n: ngettext(
                "Verified %(count)d declaration: it is active.",
                "Verified %(count)d declarations: they are active.",
                n,
            ),
        )

    @admin.action(description=_("Reject the selected declarations"), permissions=["manage"])
    def reject(self, request, queryset):
        if "_confirm" not in request.POST:
            return action_page(
                self,
                request,
                queryset,
                title=_("Reject declarations"),
                intro=_(
                    "The patients' documents do not confirm the declarations: they are rejected for good, "
                    "and the patients may sign a declaration again."
                ),
                buttons=[("_confirm", _("Yes, reject"))],
            )
        self._verify(
            request,
            queryset,
            approve=False,
            message_plural=lambda n: ngettext(
                "Rejected %(count)d declaration.", "Rejected %(count)d declarations.", n
            ),
        )
        return None


# --- SMS codes and the outbox ---------------------------------------------------------------------


@admin.register(Verification)
class VerificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["phone_number", "status", "attempts", "created_at", "code_expired_at", "verified_at"]
    list_filter = ["status"]
    search_fields = ["=phone_number"]
    date_hierarchy = "created_at"
    # Never the code's hash.
    fields = [
        "phone_number",
        "status",
        "attempts",
        "created_at",
        "code_expired_at",
        "verified_at",
        "declaration_request",
    ]
    readonly_fields = fields


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "phone_number", "body_display", "status", "attempts", "sent_at"]
    list_filter = ["status"]
    search_fields = ["=phone_number"]
    date_hierarchy = "created_at"
    fields = [
        "phone_number",
        "body_display",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "sent_at",
        "body_redacted_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("text"))
    def body_display(self, obj):
        return code_redacted(obj.body)


dashboard_figure(
    model="declarations.declaration",
    count=declarations_pending_verification_count,
    text=lambda count: (
        ngettext(
            "%(count)d declaration waits for verification of the patient's documents",
            "%(count)d declarations wait for verification of the patients' documents",
            count,
        )
        % {"count": count}
    ),
    query=lambda: {"status__exact": Declaration.Status.PENDING_VERIFICATION},
)
