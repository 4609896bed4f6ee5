from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("integrations/webhooks/", views.webhook_list, name="webhook-list"),
    path("integrations/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("integrations/webhooks/<int:pk>/delete/", views.webhook_delete, name="webhook-delete"),
    path(
        "integrations/webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        views.webhook_redeliver,
        name="webhook-redeliver",
    ),
]
