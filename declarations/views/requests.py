"""requests pages."""

urlpatterns = []
