"""Pages of the declarations app: each flow's module lists its own routes."""

from django.conf import settings

from .views import declarations, dev, patients, requests

app_name = "declarations"

urlpatterns = [*patients.urlpatterns, *requests.urlpatterns, *declarations.urlpatterns]

if settings.DEV_OUTBOX_ENABLED:
    urlpatterns += dev.urlpatterns
