"""Refusals made outside a view's own logic (middleware, error handlers): a page for people, the API's
JSON envelope under /api/."""

from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import views
from .api import Envelope

TOO_LARGE = 413
UNAVAILABLE = 503
_REFUSALS = {
    TOO_LARGE: ("request_too_large", _("The request body is too large."), views.request_too_large),
    UNAVAILABLE: (
        "service_unavailable",
        _("The service is temporarily unavailable. Please try again in a few minutes."),
        views.service_unavailable,
    ),
}


class _RefusalApi(APIView):
    """The envelope for any method: no handler is defined, so every method lands in the one below."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    status = error_type = message = None

    def http_method_not_allowed(self, request, *args, **kwargs):
        return Response(
            Envelope(error={"type": self.error_type, "message": str(self.message)}), status=self.status
        )

    options = http_method_not_allowed  # APIView answers OPTIONS itself otherwise


def refusal(request, status: int):
    error_type, message, page = _REFUSALS[status]
    if request.path_info.startswith("/api/"):
        response = _RefusalApi.as_view(status=status, error_type=error_type, message=message)(request)
        return response.render()  # a view's response is rendered by Django, a middleware's is not
    return page(request)


def bad_request(request, exception=None):
    """handler400: a body over a size limit (Django's own or BodyLimitUploadHandler's) is a 413."""
    if isinstance(exception, RequestDataTooBig):
        return refusal(request, TOO_LARGE)
    return defaults.bad_request(request, exception)
