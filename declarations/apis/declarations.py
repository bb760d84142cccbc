"""declarations API."""

urlpatterns = []
