"""patients pages."""

urlpatterns = []
