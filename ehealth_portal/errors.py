"""Refusals made outside a view's own logic (middleware, error handlers): a page for people, the API's
JSON envelope under /api/ (through the API's exception handler, as any API error)."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from . import views
from .api import RequestTooLarge, ServiceUnavailable

_PAGES = {
    404: views.page_not_found,
    413: views.request_too_large,
    503: views.service_unavailable,
}


class _RefusalApi(APIView):
    """Answers any method, whatever its Accept header, with `error` in the envelope."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    error: exceptions.APIException | None = None

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise self.error


def refusal(request, error: exceptions.APIException):
    """`error` as the envelope under /api/, as the page of its status elsewhere."""
    if not request.path_info.startswith("/api/"):
        return _PAGES[error.status_code](request)
    response = _RefusalApi.as_view(error=error)(request)
    return response.render()  # a view's response is rendered by Django, a middleware's is not


def too_large(request):
    return refusal(request, RequestTooLarge())


def unavailable(request):
    return refusal(request, ServiceUnavailable())


def bad_request(request, exception=None):
    """handler400: a body over a size limit (Django's own or BodyLimitUploadHandler's) is a 413."""
    if isinstance(exception, RequestDataTooBig):
        return too_large(request)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    """handler404: the API's JSON envelope under /api/, the portal's page elsewhere."""
    if not request.path_info.startswith("/api/"):
        return views.page_not_found(request, exception)
    return refusal(request, exceptions.NotFound())
