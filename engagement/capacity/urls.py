from django.urls import path

from . import views

urlpatterns = [
    path("overview/capacity/", views.capacity_panel, name="panel-capacity"),
]
