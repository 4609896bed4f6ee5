from django.urls import path

from . import views

urlpatterns = [
    path("accounts/", views.AccountListCreateView.as_view(), name="accounts-list"),
    path("accounts/sync/", views.AccountSyncView.as_view(), name="accounts-sync"),
    path("accounts/<int:pk>/", views.AccountDetailView.as_view(), name="accounts-detail"),
    path("accounts/<int:pk>/renewals/", views.AccountRenewalListView.as_view(), name="accounts-renewals"),
    path("account-input-proposals/", views.InputProposalListView.as_view(), name="input-proposals-list"),
    path(
        "account-input-proposals/<int:pk>/approve/",
        views.InputProposalApproveView.as_view(),
        name="input-proposals-approve",
    ),
    path(
        "account-input-proposals/<int:pk>/decline/",
        views.InputProposalDeclineView.as_view(),
        name="input-proposals-decline",
    ),
    path("contacts/sync/", views.ContactSyncView.as_view(), name="contacts-sync"),
    path("metrics/sync/", views.MetricSyncView.as_view(), name="metrics-sync"),
    path("renewals/sync/", views.RenewalSyncView.as_view(), name="renewals-sync"),
]
