from django.urls import path

from . import views
from .views import overview, scorecards

app_name = "segmentation"

urlpatterns = [
    path("accounts/<int:account_id>/tier/", views.tier_section, name="tier-section"),
    path("accounts/<int:account_id>/health/", views.health_section, name="health-section"),
    path("accounts/<int:account_id>/override/", views.override_new, name="override-new"),
    path("proposals/<int:change_id>/accept/", views.proposal_accept, name="proposal-accept"),
    path("proposals/<int:change_id>/dispute/", views.proposal_dispute, name="proposal-dispute"),
    path("overrides/<int:override_id>/decide/", views.override_decide, name="override-decide"),
    path("policies/", views.policy_list, name="policy-list"),
    path("policies/new/", views.policy_new_draft, name="policy-new"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy-detail"),
    path("policies/<int:policy_id>/simulate/", views.policy_simulate, name="policy-simulate"),
    path("policies/<int:policy_id>/validate/", views.policy_validate, name="policy-validate"),
    path("policies/<int:policy_id>/activate/", views.policy_activate, name="policy-activate"),
    path("health-scorecards/", scorecards.scorecard_list, name="scorecard-list"),
    path("health-scorecards/new/", scorecards.scorecard_new_draft, name="scorecard-new"),
    path("health-scorecards/<int:scorecard_id>/", scorecards.scorecard_detail, name="scorecard-detail"),
    path(
        "health-scorecards/<int:scorecard_id>/backtest/",
        scorecards.scorecard_backtest,
        name="scorecard-backtest",
    ),
    path("health-scorecards/<int:scorecard_id>/fit/", scorecards.scorecard_fit, name="scorecard-fit"),
    path(
        "health-scorecards/<int:scorecard_id>/activate/",
        scorecards.scorecard_activate,
        name="scorecard-activate",
    ),
    path("reviews/", views.review_list, name="review-list"),
    path("reviews/start/", views.review_start, name="review-start"),
    path("reviews/<int:review_id>/", views.review_detail, name="review-detail"),
    path("reviews/<int:review_id>/progress/", views.review_progress, name="review-progress"),
    path("overview/tier-distribution/", views.distribution_panel, name="panel-distribution"),
    path("overview/migrations/", views.migrations_panel, name="panel-migrations"),
    path("overview/overrides/", views.overrides_panel, name="panel-overrides"),
    path("overview/economics/", views.economics_panel, name="panel-economics"),
    path("overview/economics/scatter/", overview.economics_scatter, name="panel-scatter"),
    path(
        "overview/migrations/<int:review_id>/accounts/",
        overview.migration_accounts,
        name="migration-accounts",
    ),
    path("overview/overrides/<str:reason>/accounts/", overview.override_accounts, name="override-accounts"),
    path("overview/quadrants/<str:quadrant>/accounts/", overview.quadrant_accounts, name="quadrant-accounts"),
]
