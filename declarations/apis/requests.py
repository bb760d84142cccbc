"""requests API."""

urlpatterns = []
