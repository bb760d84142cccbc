"""dev pages."""

urlpatterns = []
