from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token

from . import selectors


def home(request):
    return render(request, "home.html")


def dev_outbox(request):
    """Development only: the messages the portal has sent, so a new user can open their links."""
    return render(request, "dev/outbox.html", {"emails": selectors.email_list_recent()})


def dev_outbox_message(request, email_id):
    return render(request, "dev/outbox_message.html", {"email": selectors.email_get(email_id=email_id)})


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


@requires_csrf_token
def server_error(request):
    return render(request, "500.html", status=500)
