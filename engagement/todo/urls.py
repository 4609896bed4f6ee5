from django.urls import path

from . import views

urlpatterns = [
    path("tasks/<int:task_id>/complete/", views.task_complete_view, name="task-complete"),
    path("tasks/<int:task_id>/snooze/", views.task_snooze_view, name="task-snooze"),
    path("accounts/<int:account_id>/tasks/", views.account_tasks, name="account-tasks"),
]
