from django.urls import include, path

from . import apis

urlpatterns = [
    path("dictionaries", apis.DictionaryListApi.as_view(), name="dictionaries"),
    path("global_parameters", apis.GlobalParameterListApi.as_view(), name="global-parameters"),
    path("legal_entities", apis.LegalEntityListApi.as_view(), name="legal-entities"),
    path("legal_entities/<uuid:legal_entity_id>", apis.LegalEntityDetailApi.as_view(), name="legal-entity"),
    # --- Employee requests and employees (apis.staff) ---
    path("", include("registry.apis.staff")),  # its urlpatterns: /api/employee_requests…, /api/employees…
    # --- Divisions (apis.divisions) ---
    path("", include("registry.apis.divisions")),  # its urlpatterns: /api/divisions…
]
