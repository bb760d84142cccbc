"""persons API."""

urlpatterns = []
