from django.urls import path

from .api import RetentionReportView

urlpatterns = [
    path("reports/retention/", RetentionReportView.as_view(), name="reports-retention"),
]
