from django.urls import path

from . import views

urlpatterns = [
    path("handoffs/", views.handoffs, name="handoffs"),
    path("handoffs/<int:account_id>/", views.handoff_account, name="handoff-account"),
    path("handoffs/<int:account_id>/check/", views.handoff_check, name="handoff-check"),
    path("accounts/<int:account_id>/commitments/", views.account_commitments, name="account-commitments"),
    path("approvals/", views.approvals, name="approvals"),
    path("commitments/<int:commitment_id>/decide/", views.commitment_decide, name="commitment-decide"),
    path("approvals/commitments/", views.commitments_bulk_decide, name="commitments-bulk-decide"),
    path("overview/commitments/", views.commitments_panel, name="panel-commitments"),
]
