from django.urls import path

from . import views

urlpatterns = [
    path("accounts/<int:account_id>/coverage/", views.account_coverage, name="account-coverage"),
    path("overview/coverage/", views.coverage_panel, name="panel-coverage"),
    path("overview/coverage/overdue/", views.overdue_accounts, name="coverage-overdue-accounts"),
]
