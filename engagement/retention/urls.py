from django.urls import path

from . import views

# Included into the engagement URL namespace (``engagement:panel-retention`` ...).
urlpatterns = [
    path("overview/retention/", views.retention_panel, name="panel-retention"),
    path("overview/retention/renewals/", views.retention_drilldown, name="retention-renewals"),
    path("overview/retention/export.csv", views.retention_csv, name="retention-csv"),
]
