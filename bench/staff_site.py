"""URLs of the staff benchmark's server: the API bench's (the portal's and `/bench/bare`) plus `/bench/bare-page`.

The bare page is what every cabinet page costs before its own work: the session and its user, a template
extending base.html (header, navigation, language switch), the same middleware. The staff pages are
measured against it; API paths against `/bench/bare`.
"""

from api_site import urlpatterns as api_site_urlpatterns
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import path

_PAGE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<h1>Bench</h1><p>A bare page.</p>{% endblock content %}'
)


@login_required
def bare_page(request):
    return HttpResponse(_PAGE.render({}, request))


urlpatterns = [path("bench/bare-page", bare_page), *api_site_urlpatterns]
