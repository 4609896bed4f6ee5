from django.urls import path

from . import views, views_governance, views_renewals, views_search

app_name = "accounts"

urlpatterns = [
    path("accounts/", views.account_list, name="list"),
    path("search/", views_search.search, name="search"),
    path("accounts/export.csv", views.account_export, name="export"),
    path("accounts/<int:account_id>/", views.account_detail, name="detail"),
    path("accounts/<int:account_id>/renewals/", views_renewals.renewals_section, name="renewals-section"),
    path(
        "input-proposals/<int:input_proposal_id>/decide/",
        views_governance.input_proposal_decide,
        name="input-proposal-decide",
    ),
]
