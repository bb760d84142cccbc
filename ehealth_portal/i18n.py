"""Language selection and translation overrides.

Ukrainian is the state language: the law on it (art. 27) requires the Ukrainian version of a public
website to load by default, whatever the browser prefers. So the portal's language is the one the
visitor picked with the language switcher (set_language's cookie), otherwise LANGUAGE_CODE; the
browser's Accept-Language header is not consulted.
"""

import contextlib

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class PortalLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware without Accept-Language: the switcher's choice, or Ukrainian."""

    def process_request(self, request):
        language = settings.LANGUAGE_CODE
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            with contextlib.suppress(LookupError):  # a stale or forged cookie keeps the default
                language = translation.get_supported_language_variant(chosen)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        # No "Vary: Accept-Language": the header no longer changes the response.
        response.headers.setdefault("Content-Language", translation.get_language())
        return response
