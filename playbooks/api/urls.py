from django.urls import path

from . import views

urlpatterns = [
    path("modules/", views.ServiceModuleListView.as_view(), name="modules-list"),
    path("entitlements/", views.EntitlementListCreateView.as_view(), name="entitlements-list"),
    path("add-ons/", views.AddOnListCreateView.as_view(), name="add-ons-list"),
    path("add-ons/<int:pk>/decide/", views.AddOnDecideView.as_view(), name="add-ons-decide"),
]
