from django.urls import include, path

from . import views

urlpatterns = [
    path("touchpoints/", views.TouchpointListCreateView.as_view(), name="touchpoints-list"),
    path("touchpoints/sync/", views.TouchpointSyncView.as_view(), name="touchpoints-sync"),
    path("commitments/", views.CommitmentListCreateView.as_view(), name="commitments-list"),
    path("commitments/<int:pk>/accept/", views.CommitmentAcceptView.as_view(), name="commitments-accept"),
    path("commitments/<int:pk>/decline/", views.CommitmentDeclineView.as_view(), name="commitments-decline"),
    path("tasks/", views.TaskListCreateView.as_view(), name="tasks-list"),
    path("tasks/<int:pk>/complete/", views.TaskCompleteView.as_view(), name="tasks-complete"),
    path("tasks/<int:pk>/snooze/", views.TaskSnoozeView.as_view(), name="tasks-snooze"),
    path("flags/", views.FlagListView.as_view(), name="flags-list"),
    path("flags/<int:pk>/resolve/", views.FlagResolveView.as_view(), name="flags-resolve"),
    path("accounts/<int:pk>/coverage/", views.AccountCoverageView.as_view(), name="accounts-coverage"),
    path(
        "accounts/<int:pk>/csm-suggestions/",
        views.CsmSuggestionsView.as_view(),
        name="accounts-csm-suggestions",
    ),
    path("survey-responses/", views.SurveyResponseListView.as_view(), name="survey-responses-list"),
    path(
        "notification-preferences/",
        views.NotificationPreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("worklist/", views.WorklistView.as_view(), name="worklist"),
    path("capacity/", views.CapacityView.as_view(), name="capacity"),
    path("", include("engagement.retention.api_urls")),
]
