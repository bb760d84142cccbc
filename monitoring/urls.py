from django.urls import path

from .views import joining, quality

app_name = "monitoring"

urlpatterns = [
    # A CNAP applies to join the monitoring with a signed application (public).
    path("join/", joining.join, name="join"),
    path("join/<int:application_id>/submitted/", joining.join_submitted, name="join-submitted"),
    # Quality of services: operators' dashboard with CSV and XLSX exports, and the public regional summary.
    path("", quality.dashboard, name="dashboard"),
    path("export.csv", quality.dashboard_csv, name="dashboard-csv"),
    path("export.xlsx", quality.dashboard_xlsx, name="dashboard-xlsx"),
    path("regions/", quality.regions, name="regions"),
]
