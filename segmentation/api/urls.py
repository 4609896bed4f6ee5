from django.urls import path

from . import views

urlpatterns = [
    path("tiers/", views.TierListView.as_view(), name="tiers-list"),
    path("accounts/<int:pk>/tier-history/", views.TierHistoryView.as_view(), name="accounts-tier-history"),
    path(
        "accounts/<int:pk>/tier-override/", views.AccountOverrideView.as_view(), name="accounts-tier-override"
    ),
    path("tier-reviews/", views.TierReviewStartView.as_view(), name="tier-reviews-list"),
    path("tier-reviews/<int:pk>/", views.TierReviewDetailView.as_view(), name="tier-reviews-detail"),
    path("tier-overrides/", views.OverrideListView.as_view(), name="tier-overrides-list"),
    path(
        "tier-overrides/<int:pk>/approve/",
        views.OverrideDecisionView.as_view(decision="approve"),
        name="tier-overrides-approve",
    ),
    path(
        "tier-overrides/<int:pk>/decline/",
        views.OverrideDecisionView.as_view(decision="decline"),
        name="tier-overrides-decline",
    ),
    path("tier-proposals/", views.ProposalListView.as_view(), name="tier-proposals-list"),
    path("tier-proposals/<int:pk>/accept/", views.ProposalAcceptView.as_view(), name="tier-proposals-accept"),
    path("tier-proposals/<int:pk>/reject/", views.ProposalRejectView.as_view(), name="tier-proposals-reject"),
    path(
        "accounts/<int:pk>/health-history/", views.HealthHistoryView.as_view(), name="accounts-health-history"
    ),
    path("health-scorecards/", views.HealthScorecardListView.as_view(), name="health-scorecards-list"),
]
