from django.urls import path

from . import views
from .wizard import RegistrationWizard

app_name = "registry"

register = RegistrationWizard.as_view(url_name="registry:register-step")

urlpatterns = [
    path("register/", register, name="register"),
    path("register/<str:step>/", register, name="register-step"),
    path("register/status/<str:token>/", views.application_status, name="application-status"),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    path("cabinet/", views.cabinet, name="cabinet"),
    path("facilities/", views.facility_list, name="facility-list"),
    path("facilities/<uuid:legal_entity_id>/", views.facility_detail, name="facility-detail"),
    path("map/", views.facility_map, name="facility-map"),
    path("map/divisions.geojson", views.division_geojson, name="division-geojson"),
    path("places/settlement.json", views.settlement_location, name="settlement-location"),
    # --- HR access granted by the head; the invitation page (invitations) ---
    # --- New staff: the doctor wizard, other roles (staff_new) ---
    # --- Employees and their invitations (employees) ---
    # --- Places of service (divisions) ---
    # --- Facility data changes (facility_edit) ---
]
