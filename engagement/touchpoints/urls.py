from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<int:account_id>/touchpoints/new/", views.touchpoint_new, name="touchpoint-new"),
    path("accounts/<int:account_id>/timeline/", views.account_timeline, name="account-timeline"),
]
