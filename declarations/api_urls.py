"""The declarations API under /api/: each resource's module lists its own routes."""

from .apis import declarations, persons, requests, verifications

urlpatterns = [
    *verifications.urlpatterns,
    *requests.urlpatterns,
    *declarations.urlpatterns,
    *persons.urlpatterns,
]
