"""verifications API."""

urlpatterns = []
