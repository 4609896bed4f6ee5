"""The public survey answer page and leadership's satisfaction panel."""

from django.urls import path

from . import views

app_name = "surveys"

urlpatterns = [
    path("survey/<str:token>/", views.respond, name="respond"),
    path("overview/satisfaction/", views.satisfaction_panel_view, name="panel"),
]
