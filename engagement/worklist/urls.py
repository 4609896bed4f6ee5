from django.urls import path

from . import views

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/capacity/", views.worklist_capacity, name="worklist-capacity"),
    path("worklist/rows/<int:account_id>/", views.worklist_row, name="worklist-row"),
]
