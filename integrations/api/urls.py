from django.urls import path

from . import views

urlpatterns = [
    path("webhooks/", views.WebhookListCreateView.as_view(), name="webhooks-list"),
    path("webhooks/<int:pk>/", views.WebhookDetailView.as_view(), name="webhooks-detail"),
    path(
        "webhooks/<int:pk>/deliveries/", views.WebhookDeliveryListView.as_view(), name="webhooks-deliveries"
    ),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_id>/redeliver/",
        views.WebhookRedeliverView.as_view(),
        name="webhooks-redeliver",
    ),
]
