from django.urls import path

from . import views, views_approvals

urlpatterns = [
    path("handoffs/", views.handoffs, name="handoffs"),
    path("handoffs/<int:account_id>/", views.handoff_account, name="handoff-account"),
    path("handoffs/<int:account_id>/check/", views.handoff_check, name="handoff-check"),
    path("accounts/<int:account_id>/commitments/", views.account_commitments, name="account-commitments"),
    path("approvals/", views_approvals.approvals, name="approvals"),
    path("commitments/<int:commitment_id>/decide/", views.commitment_decide, name="commitment-decide"),
    path("approvals/commitments/", views_approvals.commitments_bulk_decide, name="commitments-bulk-decide"),
    path("approvals/overrides/", views_approvals.overrides_bulk_decide, name="overrides-bulk-decide"),
    path("approvals/add-ons/", views_approvals.addons_bulk_decide, name="addons-bulk-decide"),
    path("overview/commitments/", views.commitments_panel, name="panel-commitments"),
]
