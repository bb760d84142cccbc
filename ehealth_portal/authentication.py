from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework_api_key.permissions import KeyParser


class SessionAuthentication(authentication.SessionAuthentication):
    """Session login for the API, answering 401 (not 403) when nobody is signed in, as eHealth does.

    (A module of its own: DRF imports authentication classes while rest_framework.views loads.)
    """

    def authenticate_header(self, request):
        return 'Session realm="api"'


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key <key>`: the request runs as the key's user; a bad key is a 401."""

    keyword = KeyParser.keyword

    def authenticate(self, request):
        key = KeyParser().get(request)
        if key is None:
            return None
        from .models import ApiKey  # models load after DRF's settings import this module

        key = key.strip()
        # One query for the key and its user (the library's get_from_key reads the user separately).
        api_key = (
            ApiKey.objects.get_usable_keys()
            .select_related("user")
            .filter(prefix=key.partition(".")[0])
            .first()
        )
        if api_key is None or not api_key.is_valid(key) or api_key.has_expired or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("The API key is not valid."))
        return api_key.user, api_key

    def authenticate_header(self, request):
        return self.keyword
