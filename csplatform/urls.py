from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from . import views, views_saved

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("segmentation.api.urls")),
    path("", include("playbooks.api.urls")),
    path("", include("engagement.api.urls")),
    path("", include("integrations.api.urls")),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("overview/", views.leadership_overview, name="leadership-overview"),
    path("health/", views.health, name="health"),
    path("ready/", views.ready, name="ready"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "api/docs/",
        views.ApiDocsView.as_view(url_name="api-schema"),
        name="api-docs",
    ),
    path("saved-views/", views_saved.saved_view_create, name="saved-view-create"),
    path("saved-views/<int:view_id>/delete/", views_saved.saved_view_remove, name="saved-view-delete"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("", include("accounts.urls")),
    path("", include("segmentation.urls")),
    path("", include("playbooks.urls")),
    path("", include("engagement.urls")),
    path("", include("engagement.journeys.urls")),
    # The email provider's tracking webhooks: anymail's views, behind its basic-auth secret.
    path("anymail/", include("engagement.journeys.tracking_urls")),
    path("", include("integrations.urls")),
    path("", include("engagement.surveys.urls")),
    path("", include("engagement.notifications.urls")),
]

# A database outage before the view runs (session, user) is a 503, not a 500.
handler500 = "csplatform.middleware.server_error"
# A URL under /api/ that matches no route still answers JSON.
handler404 = "csplatform.api_errors.page_not_found"
