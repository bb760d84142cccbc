"""declarations pages."""

urlpatterns = []
