from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Session login for the API, answering 401 (not 403) when nobody is signed in, as eHealth does.

    (A module of its own: DRF imports authentication classes while rest_framework.views loads.)
    """

    def authenticate_header(self, request):
        return 'Session realm="api"'
