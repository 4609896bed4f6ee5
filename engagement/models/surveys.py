"""NPS and CSAT surveys: what was asked (a journey step, or a touchpoint such as a QBR) and answers.

A response is unique per (survey, contact): answering again replaces the first answer. The
account's CSM and tier at the time of the answer are kept so satisfaction by CSM and by tier over
time reads the people and tiers as they were.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class SurveyKind(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT (1–5)"


# The scores each kind accepts, inclusive.
SCORE_RANGES: dict[str, tuple[int, int]] = {SurveyKind.NPS: (0, 10), SurveyKind.CSAT: (1, 5)}

DEFAULT_QUESTIONS: dict[str, str] = {
    SurveyKind.NPS: "How likely are you to recommend us to a friend or colleague?",
    SurveyKind.CSAT: "How satisfied are you with the service you received?",
}


class Survey(models.Model):
    """One question asked the same way of several contacts: a journey's survey step, or the one-off
    survey after one touchpoint."""

    kind = models.CharField(max_length=4, choices=SurveyKind.choices)
    question = models.CharField(max_length=255)
    journey_step = models.OneToOneField(
        "playbooks.JourneyStep", null=True, blank=True, on_delete=models.PROTECT, related_name="survey"
    )
    journey = models.ForeignKey(
        "playbooks.Journey", null=True, blank=True, on_delete=models.PROTECT, related_name="surveys"
    )
    touchpoint = models.OneToOneField(
        "engagement.Touchpoint", null=True, blank=True, on_delete=models.CASCADE, related_name="survey"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(journey_step__isnull=False, touchpoint__isnull=True)
                | Q(journey_step__isnull=True, touchpoint__isnull=False),
                name="survey_from_step_or_touchpoint",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.question}"


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    contact = models.ForeignKey("accounts.Contact", on_delete=models.CASCADE, related_name="survey_responses")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="survey_responses")
    kind = models.CharField(max_length=4, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True, default="")
    responded_at = models.DateTimeField()
    journey = models.ForeignKey(
        "playbooks.Journey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The account's CSM and tier when the contact answered (leadership reads them over time).
    csm = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tier_code = models.CharField(max_length=10, blank=True, default="")
    # How many times the contact answered this survey (a second answer replaces the first).
    answers = models.PositiveSmallIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "contact"], name="surveyresponse_one_per_contact"),
            models.CheckConstraint(
                condition=Q(kind=SurveyKind.NPS, score__lte=10)
                | Q(kind=SurveyKind.CSAT, score__gte=1, score__lte=5),
                name="surveyresponse_score_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "-responded_at"], name="surveyresponse_account_time"),
            models.Index(fields=["responded_at"], name="surveyresponse_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} from {self.contact_id}"


class SurveyRecipients(models.TextChoices):
    PARTICIPANTS = "participants", "The touchpoint's participants (else every mailable contact)"
    CHAMPIONS = "champions", "Champions and executives"
    ALL = "all", "Every mailable contact"


class TouchpointSurveyRule(models.Model):
    """After a touchpoint of this kind (a QBR, a training), ask its contacts one question."""

    touchpoint_kind = models.CharField(max_length=12, unique=True)
    survey_kind = models.CharField(max_length=4, choices=SurveyKind.choices, default=SurveyKind.CSAT)
    question = models.CharField(
        max_length=255, blank=True, default="", help_text="Blank: the kind's question."
    )
    delay_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Hours after the touchpoint before the email goes out."
    )
    recipients = models.CharField(
        max_length=12, choices=SurveyRecipients.choices, default=SurveyRecipients.PARTICIPANTS
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.survey_kind} after {self.touchpoint_kind}"
