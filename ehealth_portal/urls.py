from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from . import api_intro, apis, views

# Operators sign in to the admin through the portal's login: its rate limits and MFA apply.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = admin.site.site_title = "eHealth"

api_patterns = [
    path("", include("registry.api_urls")),
    path("", include("declarations.api_urls")),
    path("digital_signatures", apis.DigitalSignatureVerifyApi.as_view(), name="digital-signatures"),
    path("schema/", apis.SchemaApi.as_view(), name="api-schema"),
    path("docs/", apis.SchemaDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("signatures/check/", views.signature_check, name="signature-check"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api-guide/", api_intro.api_intro, name="api-intro"),  # for people: /api/ answers programs
    path("api/", include(api_patterns)),
    path("monitoring/", include("monitoring.urls")),
    path("", include("declarations.urls")),
    path("", include("registry.urls")),
]

if settings.DEV_OUTBOX_ENABLED:
    urlpatterns += [
        path("dev/outbox/", views.dev_outbox, name="dev-outbox"),
        path("dev/outbox/<int:email_id>/", views.dev_outbox_message, name="dev-outbox-message"),
    ]

handler400 = "ehealth_portal.errors.bad_request"  # a body over the size limit: 413
handler403 = "ehealth_portal.views.permission_denied"
handler404 = "ehealth_portal.errors.page_not_found"  # the JSON envelope under /api/
handler500 = "ehealth_portal.views.server_error"
