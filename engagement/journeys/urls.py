"""Journey screens and the public one-click unsubscribe endpoint."""

from django.urls import path

from . import views

app_name = "journeys"

urlpatterns = [
    path("journeys/", views.journey_list, name="list"),
    path("journeys/settings/", views.settings_update, name="settings"),
    path("journeys/review/", views.review_list, name="review"),
    path("journeys/review/<int:outbound_id>/", views.review_resolve, name="review-resolve"),
    path(
        "journeys/review/batches/<uuid:claim_token>/", views.review_resolve_batch, name="review-resolve-batch"
    ),
    path("journeys/new/", views.journey_new, name="new"),
    path("journeys/<int:journey_id>/", views.journey_detail, name="detail"),
    path("journeys/<int:journey_id>/pause/", views.journey_pause_view, name="pause"),
    path("journeys/<int:journey_id>/resume/", views.journey_resume_view, name="resume"),
    path("journeys/<int:journey_id>/steps/new/", views.step_edit, name="step-new"),
    path("journeys/<int:journey_id>/steps/<int:step_id>/", views.step_edit, name="step-edit"),
    path("journeys/<int:journey_id>/steps/<int:step_id>/preview/", views.step_preview, name="step-preview"),
    path("journeys/<int:journey_id>/steps/<int:step_id>/email/", views.step_email, name="step-email"),
    path("journeys/<int:journey_id>/dry-run/", views.journey_dry_run, name="dry-run"),
    path("journeys/<int:journey_id>/results/", views.journey_results_view, name="results"),
    path("accounts/<int:account_id>/journeys/", views.account_journeys, name="account-journeys"),
    path("accounts/<int:account_id>/journeys/enrol/", views.account_enrol, name="account-enrol"),
    path("accounts/<int:account_id>/journeys/stop/", views.account_stop_all, name="account-stop-all"),
    path("enrolments/<int:enrolment_id>/stop/", views.enrolment_stop_view, name="enrolment-stop"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
