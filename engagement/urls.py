from django.urls import include, path

from . import views

app_name = "engagement"

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/capacity/", views.worklist_capacity, name="worklist-capacity"),
    path("accounts/<int:account_id>/touchpoints/new/", views.touchpoint_new, name="touchpoint-new"),
    path("tasks/<int:task_id>/complete/", views.task_complete_view, name="task-complete"),
    path("tasks/<int:task_id>/snooze/", views.task_snooze_view, name="task-snooze"),
    path("handoffs/", views.handoffs, name="handoffs"),
    path("handoffs/<int:account_id>/", views.handoff_account, name="handoff-account"),
    path("handoffs/<int:account_id>/check/", views.handoff_check, name="handoff-check"),
    path("worklist/rows/<int:account_id>/", views.worklist_row, name="worklist-row"),
    path("accounts/<int:account_id>/coverage/", views.account_coverage, name="account-coverage"),
    path("accounts/<int:account_id>/tasks/", views.account_tasks, name="account-tasks"),
    path("accounts/<int:account_id>/commitments/", views.account_commitments, name="account-commitments"),
    path("accounts/<int:account_id>/timeline/", views.account_timeline, name="account-timeline"),
    path("approvals/", views.approvals, name="approvals"),
    path("commitments/<int:commitment_id>/decide/", views.commitment_decide, name="commitment-decide"),
    path("overview/coverage/", views.coverage_panel, name="panel-coverage"),
    path("overview/commitments/", views.commitments_panel, name="panel-commitments"),
    path("overview/capacity/", views.capacity_panel, name="panel-capacity"),
    path("", include("engagement.retention.urls")),
]
