"""Email journeys: ordered, templated email sequences for low-touch tiers.

A journey is data that CS Leadership edits; sending state (enrolments, the outbox) lives in the
engagement app. Templates are validated when saved (``playbooks.journey_templates``), never at
send time.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q

from csplatform import bounds


class Journey(models.Model):
    code = models.SlugField(max_length=40, unique=True, help_text="Stable name used by playbooks.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    # Contacts are enrolled while their account is in this tier; leaving it ends the enrolment.
    # Blank: the journey is not bound to a tier.
    tier_code = models.CharField(max_length=10, blank=True, default="")
    # Send window in the recipient's local time (contact's time zone, else the account region's).
    send_window_start = models.TimeField(default=dt.time(9, 0))
    send_window_end = models.TimeField(default=dt.time(17, 0))
    send_on_weekends = models.BooleanField(default=False)
    # Kill switch: a paused journey sends nothing and schedules nothing until resumed.
    is_paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(send_window_end__gt=models.F("send_window_start")),
                name="journey_send_window_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class DelayFrom(models.TextChoices):
    ENROLMENT = "enrolment", "after enrolment"
    PREVIOUS = "previous", "after the previous step"


class JourneyStepKind(models.TextChoices):
    EMAIL = "email", "Email"
    SURVEY = "survey", "Survey (email with one link per score)"


class StepSurveyKind(models.TextChoices):
    NPS = "nps", "NPS (0–10)"
    CSAT = "csat", "CSAT (1–5)"


class JourneyStep(models.Model):
    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Order of the step in the journey, from 1.")
    name = models.CharField(max_length=120)
    # A survey step is an email too: its body is followed by the question and one link per score.
    kind = models.CharField(max_length=6, choices=JourneyStepKind.choices, default=JourneyStepKind.EMAIL)
    survey_kind = models.CharField(max_length=4, choices=StepSurveyKind.choices, blank=True, default="")
    survey_question = models.CharField(
        max_length=255, blank=True, default="", help_text="Blank: the standard NPS or CSAT question."
    )
    delay_days = models.PositiveSmallIntegerField(
        default=0, validators=bounds.JOURNEY_DELAY_DAYS.validators()
    )
    delay_hours = models.PositiveSmallIntegerField(
        default=0, validators=bounds.JOURNEY_DELAY_HOURS.validators()
    )
    delay_from = models.CharField(max_length=10, choices=DelayFrom.choices, default=DelayFrom.PREVIOUS)
    subject_template = models.CharField(max_length=255)
    body_text_template = models.TextField(help_text="Plain-text part.")
    body_html_template = models.TextField(
        blank=True, default="", help_text="HTML part; blank renders the plain text as simple HTML."
    )
    # A condition in the segmentation signal vocabulary, e.g. "seat_utilisation >= 0.6".
    # When it holds for the account at send time, the step is skipped.
    skip_condition = models.CharField(max_length=255, blank=True, default="")
    # The ServiceModule code this email delivers, so sends count towards coverage.
    module_code = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["journey", "position"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "position"], name="journeystep_unique_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="journeystep_position_from_1"),
            models.CheckConstraint(
                condition=Q(kind=JourneyStepKind.EMAIL, survey_kind="")
                | Q(kind=JourneyStepKind.SURVEY, survey_kind__in=["nps", "csat"]),
                name="journeystep_survey_kind_with_survey",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.journey_id}#{self.position} {self.name}"

    @property
    def delay(self) -> dt.timedelta:
        return dt.timedelta(days=self.delay_days, hours=self.delay_hours)
