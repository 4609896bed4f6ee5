"""Every survey rule: which survey a journey step or a touchpoint asks, the links an email carries,
who may answer, what an answer records, and the one-off invitations after a touchpoint.

An answer is recorded only by ``survey_response_record`` (the answer page's POST): opening a link
records nothing, so link scanners and previews cannot answer for anyone.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Contact
from playbooks.journey_templates import single_line
from playbooks.models import JourneyStep

from ..models import (
    DEFAULT_QUESTIONS,
    SCORE_RANGES,
    MailKind,
    MailStatus,
    OutboundEmailRecord,
    OutboundStatus,
    OutgoingMail,
    Survey,
    SurveyRecipients,
    SurveyResponse,
    Touchpoint,
    TouchpointSurveyRule,
)
from ..signals import survey_responded
from .tokens import InvalidSurveyToken, survey_and_contact_from_token, survey_url

logger = logging.getLogger(__name__)

COMMENT_MAX_LENGTH = 2000
# A touchpoint synced long after it happened (a CRM backfill) asks nobody about it.
TOUCHPOINT_SURVEY_MAX_AGE = dt.timedelta(days=7)
# Statuses of an email that carried the survey's links to the contact.
_CARRIED = (OutboundStatus.SENDING, OutboundStatus.SENT)


def question_for(kind: str, question: str = "") -> str:
    return question.strip() or DEFAULT_QUESTIONS[kind]


def score_range(kind: str) -> range:
    low, high = SCORE_RANGES[kind]
    return range(low, high + 1)


def survey_for_step(step: JourneyStep) -> Survey:
    """The survey a journey survey step asks (made the first time the step is rendered)."""
    survey, _ = Survey.objects.get_or_create(
        journey_step=step,
        defaults={
            "kind": step.survey_kind,
            "question": question_for(step.survey_kind, step.survey_question),
            "journey_id": step.journey_id,
        },
    )
    return survey


# --- What an email carries --------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyLinks:
    question: str
    kind: str
    links: list[tuple[int, str]]  # (score, url), lowest score first

    @property
    def low_label(self) -> str:
        return "Not at all likely" if self.kind == "nps" else "Very dissatisfied"

    @property
    def high_label(self) -> str:
        return "Extremely likely" if self.kind == "nps" else "Very satisfied"


def survey_links(*, survey: Survey, contact_id: int) -> SurveyLinks:
    return SurveyLinks(
        question=survey.question,
        kind=survey.kind,
        links=[
            (score, survey_url(survey_id=survey.pk, contact_id=contact_id, score=score))
            for score in score_range(survey.kind)
        ],
    )


def survey_block(*, survey: Survey, contact_id: int) -> tuple[str, str]:
    """The question with one link per score, as plain text and as HTML (appended to an email)."""
    context = {"survey": survey_links(survey=survey, contact_id=contact_id)}
    return (
        render_to_string("surveys/_links.txt", context),
        render_to_string("surveys/_links.html", context),
    )


# --- Answering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyInvitation:
    """A valid link: the survey and the contact it was sent to."""

    survey: Survey
    contact: Contact


def survey_was_sent(*, survey: Survey, contact_id: int) -> bool:
    """Whether an email carrying this survey's links went to this contact."""
    if survey.journey_step_id is not None:
        return OutboundEmailRecord.objects.filter(
            step_id=survey.journey_step_id, contact_id=contact_id, status__in=_CARRIED
        ).exists()
    return OutgoingMail.objects.filter(
        key=_invitation_key(survey.pk, contact_id), status__in=(MailStatus.SENDING, MailStatus.SENT)
    ).exists()


def survey_invitation_open(*, token: str) -> SurveyInvitation:
    """The survey and contact a link names; refused (ValidationError on ``token``) when the token
    was forged or altered, or names a contact the survey was not sent to."""
    try:
        survey_id, contact_id = survey_and_contact_from_token(token)
    except InvalidSurveyToken as exc:
        raise ValidationError({"token": ["This survey link is not valid or has expired."]}) from exc
    survey = Survey.objects.filter(pk=survey_id).first()
    contact = Contact.objects.select_related("account").filter(pk=contact_id).first()
    if survey is None or contact is None or not survey_was_sent(survey=survey, contact_id=contact_id):
        raise ValidationError({"token": ["This survey link is not valid for this contact."]})
    return SurveyInvitation(survey=survey, contact=contact)


def score_parse(*, kind: str, raw: object) -> int:
    """The score as an int within the kind's range, else ValidationError on ``score``."""
    allowed = score_range(kind)
    message = f"Choose a score from {allowed.start} to {allowed.stop - 1}."
    try:
        score = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError({"score": [message]}) from None
    if score not in allowed:
        raise ValidationError({"score": [message]})
    return score


@transaction.atomic
def survey_response_record(*, token: str, score: object, comment: str = "") -> SurveyResponse:
    """Record the answer a contact gives through their link; a second answer replaces the first.

    Sends ``survey_responded`` in the transaction (health, notifications and webhooks follow it).
    """
    invitation = survey_invitation_open(token=token)
    survey, contact = invitation.survey, invitation.contact
    value = score_parse(kind=survey.kind, raw=score)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError({"comment": [f"Keep the comment under {COMMENT_MAX_LENGTH} characters."]})
    account = contact.account
    now = timezone.now()
    values = {
        "account_id": account.pk,
        "kind": survey.kind,
        "score": value,
        "comment": comment,
        "responded_at": now,
        "journey_id": survey.journey_id,
        "csm_id": account.csm_id,
        "tier_code": account.tier_code,
    }
    existing = SurveyResponse.objects.select_for_update().filter(survey=survey, contact=contact).first()
    if existing is None:
        response = SurveyResponse.objects.create(survey=survey, contact=contact, **values)
    else:
        for name, field_value in values.items():
            setattr(existing, name, field_value)
        existing.answers += 1
        existing.save()
        response = existing
    survey_responded.send(
        sender=SurveyResponse,
        response_id=response.pk,
        account_id=account.pk,
        contact_id=contact.pk,
        kind=survey.kind,
        score=value,
        replaced=existing is not None,
    )
    return response


# --- One-off surveys after a touchpoint -------------------------------------------------------


def _invitation_key(survey_id: int, contact_id: int) -> str:
    return f"survey:{survey_id}:{contact_id}"


def _recipients(touchpoint: Touchpoint, rule: TouchpointSurveyRule) -> list[Contact]:
    from ..journeys.services import contact_problem

    contacts = Contact.objects.filter(account_id=touchpoint.account_id).order_by("id")
    if rule.recipients == SurveyRecipients.PARTICIPANTS:
        participants = list(touchpoint.participants.order_by("id"))
        chosen = participants or list(contacts)
    elif rule.recipients == SurveyRecipients.CHAMPIONS:
        chosen = [c for c in contacts if c.is_champion or c.is_executive]
    else:
        chosen = list(contacts)
    return [contact for contact in chosen if not contact_problem(contact)]


@transaction.atomic
def touchpoint_survey_start(*, touchpoint_id: int, now: dt.datetime | None = None) -> int:
    """Queue the one-off survey after a touchpoint whose kind has an active rule; returns how many
    invitations were queued. Safe to run twice: one survey per touchpoint, one email per contact."""
    now = now or timezone.now()
    touchpoint = (
        Touchpoint.objects.select_related("account", "account__csm", "logged_by")
        .filter(pk=touchpoint_id)
        .first()
    )
    if touchpoint is None or touchpoint.occurred_at < now - TOUCHPOINT_SURVEY_MAX_AGE:
        return 0
    rule = TouchpointSurveyRule.objects.filter(touchpoint_kind=touchpoint.kind, is_active=True).first()
    if rule is None:
        return 0
    survey, _ = Survey.objects.get_or_create(
        touchpoint=touchpoint,
        defaults={"kind": rule.survey_kind, "question": question_for(rule.survey_kind, rule.question)},
    )
    send_at = max(now, touchpoint.occurred_at + dt.timedelta(hours=rule.delay_hours))
    account = touchpoint.account
    rows = []
    for contact in _recipients(touchpoint, rule):
        text_links, html_links = survey_block(survey=survey, contact_id=contact.pk)
        context = {
            "contact": contact,
            "account": account,
            "touchpoint": touchpoint,
            "csm": account.csm,
            "links_text": text_links,
            "links_html": html_links,
            "unsubscribe": _unsubscribe(contact.pk),
        }
        rows.append(
            OutgoingMail(
                key=_invitation_key(survey.pk, contact.pk),
                kind=MailKind.SURVEY,
                contact=contact,
                account=account,
                to_email=contact.email,
                to_name=single_line(contact.name)[:200],
                subject=single_line(
                    f"{account.name}: one question about your {touchpoint.get_kind_display()}"
                )[:255],
                body_text=render_to_string("surveys/invitation.txt", context),
                body_html=render_to_string("surveys/invitation.html", context),
                not_before=send_at,
                created_at=now,
            )
        )
    OutgoingMail.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _unsubscribe(contact_id: int) -> str:
    from ..journeys.unsubscribe import unsubscribe_url

    return unsubscribe_url(contact_id=contact_id)
