from allauth.core.ratelimit import consume_or_429
from django.conf import settings
from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from . import selectors
from .forms import SignatureCheckForm


def home(request):
    return render(request, "home.html")


def signature_check(request):
    """Anyone may check that a signature verifies and see whose it is, before using it in a flow."""
    document = None
    if request.method == "POST":
        if limited := consume_or_429(request, action="signature_check"):
            return limited
        form = SignatureCheckForm(request.POST, request.FILES)
        if form.is_valid():
            document = form.cleaned_data["document"]
    else:
        form = SignatureCheckForm()
    return render(request, "signatures/check.html", {"form": form, "document": document})


def dev_outbox(request):
    """Development only: the messages the portal has sent, so a new user can open their links."""
    return render(request, "dev/outbox.html", {"emails": selectors.email_list_recent()})


def dev_outbox_message(request, email_id):
    return render(request, "dev/outbox_message.html", {"email": selectors.email_get(email_id=email_id)})


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def request_too_large(request):
    return render(request, "413.html", {"limit": settings.REQUEST_BODY_MAX_BYTES}, status=413)


def service_unavailable(request):
    return render(request, "503.html", status=503)


@requires_csrf_token
def server_error(request):
    return render(request, "500.html", status=500)
