"""Request bodies above REQUEST_BODY_MAX_BYTES are refused with 413 before they are read.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves out file uploads: without this a 30 MB "signature" would be
received in full and only then refused by the form.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler

from . import errors


class RequestBodyLimitMiddleware:
    """A declared Content-Length over the limit: 413 at once, the body left unread."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads such a body as empty
        if declared > settings.REQUEST_BODY_MAX_BYTES:
            return errors.too_large(request)
        return self.get_response(request)


class UploadTooLarge(RequestDataTooBig):
    pass


class BodyLimitUploadHandler(FileUploadHandler):
    """Counts the file bytes as they arrive and stops past the limit, whatever Content-Length said
    (absent or understated: a chunked body, a server that does not cap the stream at it).

    The error becomes a 413 through handler400 (errors.bad_request) or, in the API, its exception handler.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.REQUEST_BODY_MAX_BYTES:
            raise UploadTooLarge("The uploaded files exceed REQUEST_BODY_MAX_BYTES.")
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handlers build the file
