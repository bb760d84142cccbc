from django.urls import include, path

from . import views
from .wizard import RegistrationWizard

app_name = "registry"

register = RegistrationWizard.as_view(url_name="registry:register-step")

urlpatterns = [
    path("register/", register, name="register"),
    path("register/<str:step>/", register, name="register-step"),
    path("register/status/<str:token>/", views.application_status, name="application-status"),
    path("cabinet/", views.cabinet, name="cabinet"),
    path("facilities/", views.facility_list, name="facility-list"),
    path("facilities/<uuid:legal_entity_id>/", views.facility_detail, name="facility-detail"),
    path("map/", views.facility_map, name="facility-map"),
    path("map/divisions.geojson", views.division_geojson, name="division-geojson"),
    path("places/settlement.json", views.settlement_location, name="settlement-location"),
    # --- HR access granted by the head; the invitation page (invitations) ---
    path("", include("registry.views.invitations")),  # its urlpatterns: /invite/…, /cabinet/staff/hr-access/…
    # --- New staff: the doctor wizard, other roles (staff_new) ---
    path("", include("registry.views.staff_new")),  # its urlpatterns: /cabinet/staff/new/…
    # --- Employees and their invitations (employees) ---
    path("", include("registry.views.employees")),  # its urlpatterns: /cabinet/staff/…
    # --- Places of service (divisions) ---
    path("", include("registry.views.divisions")),  # its urlpatterns: /cabinet/divisions/…
    # --- Facility data changes (facility_edit) ---
    path("", include("registry.views.facility_edit")),  # its urlpatterns: /cabinet/facility/edit/…
]
