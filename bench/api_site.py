"""URLs of the API benchmark's server: the portal's, plus `/bench/bare` (20 small objects, no auth, no queries)."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ehealth_portal.urls import urlpatterns as portal_urlpatterns

BARE = [{"id": n, "name": f"item {n}", "active": n % 2 == 0} for n in range(20)]


class BareApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response(BARE)


urlpatterns = [path("bench/bare", BareApi.as_view()), *portal_urlpatterns]
