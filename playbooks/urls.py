from django.urls import path

from . import views

app_name = "playbooks"

urlpatterns = [
    path("policies/<int:policy_id>/entitlements/", views.policy_entitlements, name="policy-entitlements"),
    path("add-ons/<int:add_on_id>/decide/", views.addon_decide_view, name="addon-decide"),
]
