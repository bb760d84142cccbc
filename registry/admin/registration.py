"""Registration applications: their evidence and check log, re-checks, and the operator's decision on
waiting sole proprietors; the dashboard's figure of applications waiting for it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ehealth_portal.admin import ReadOnlyAdminMixin, action_page, pretty_json
from ehealth_portal.admin_site import dashboard_figure

from .. import selectors, services
from ..models import ApplicationCheck, RegistrationApplication
from .labels import signer_html

# --- Facility registration ------------------------------------------------------------------------
# These records change only through services (which check the state and record the operator), so the
# admin shows them read-only and offers the services as actions.


def apply_each(modeladmin, request, queryset, call, message_plural) -> None:
    """Run `call(obj)` (a service) for every selected object; report the successes and each refusal."""
    done, errors = 0, []
    for obj in queryset:
        try:
            call(obj)
            done += 1
        except ValidationError as error:
            errors.append(f"{obj}: {' '.join(error.messages)}")
    report(modeladmin, request, done, errors, message_plural)


def report(modeladmin, request, done: int, errors: list[str], message_plural) -> None:
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
        return signer_html(obj.signer)

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
        apply_each(
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
                report(
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


dashboard_figure(
    model="registry.registrationapplication",
    count=selectors.registration_applications_waiting_count,
    text=lambda count: (
        ngettext(
            "%(count)d application waits for an operator's decision",
            "%(count)d applications wait for an operator's decision",
            count,
        )
        % {"count": count}
    ),
    query=lambda: {"status__exact": RegistrationApplication.Status.WAITING_OPERATOR},
)
