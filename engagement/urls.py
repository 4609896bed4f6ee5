from django.urls import path

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
]
