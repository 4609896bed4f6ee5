from django.urls import path

from . import views

urlpatterns = [
    path("accounts/", views.AccountListCreateView.as_view(), name="accounts-list"),
    path("accounts/sync/", views.AccountSyncView.as_view(), name="accounts-sync"),
    path("accounts/<int:pk>/", views.AccountDetailView.as_view(), name="accounts-detail"),
    path("contacts/sync/", views.ContactSyncView.as_view(), name="contacts-sync"),
    path("metrics/sync/", views.MetricSyncView.as_view(), name="metrics-sync"),
]
