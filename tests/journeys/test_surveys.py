"""Surveys: a journey survey step and a one-off survey after a QBR, the answer page, and where an
answer goes (timeline, health input, notifications, the API)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.core import mail
from django.core.signing import TimestampSigner

from engagement.health.inputs import survey_score
from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import outbound_dispatch
from engagement.journeys.services import enrolment_start_for_account
from engagement.mail.services import outgoing_mail_dispatch
from engagement.models import MailStatus, Notification, OutgoingMail, Survey, SurveyResponse
from engagement.surveys.tokens import SALT, survey_token
from tests.factories import ContactFactory

from .conftest import TUESDAY_10_BERLIN
from .factories import JourneyFactory, JourneyStepFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://localhost:8000(/survey/[^/\s]+/)\?score=(\d+)")


@pytest.fixture
def nps_journey(db: None):
    journey = JourneyFactory(code="nps-check", name="NPS check", tier_code="MM3")
    JourneyStepFactory(
        journey=journey,
        position=1,
        delay_from="enrolment",
        kind="survey",
        survey_kind="nps",
        subject_template="A quick question, {{ contact.first_name }}",
    )
    return journey


def _survey_links(account, contact, settings) -> dict[int, str]:
    settings.SITE_URL = "http://localhost:8000"
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="nps-check", account_id=account.pk, source="test")
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
        outbound_dispatch()
    (message,) = mail.outbox
    links = {int(score): path for path, score in LINK.findall(message.body)}
    assert list(links) == list(range(0, 11))  # one link per NPS score, in the text part
    html, _ = message.alternatives[0]
    assert html.count("/survey/") == 11
    return links


def test_opening_a_link_records_nothing_and_shows_the_chosen_score(
    client, account, contact, nps_journey, settings
):
    path = _survey_links(account, contact, settings)[9]

    page = client.get(f"{path}?score=9")

    assert page.status_code == 200
    assert b'value="9" checked' in page.content
    assert b"How likely are you to recommend us" in page.content
    assert SurveyResponse.objects.count() == 0


def test_posting_records_the_answer_on_the_timeline_in_health_and_for_the_csm(
    client, alice, account, contact, nps_journey, settings, django_capture_on_commit_callbacks
):
    path = _survey_links(account, contact, settings)[3]

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(path, {"score": "3", "comment": "Support is slow"})

    assert done.status_code == 200 and b"recorded-score" in done.content
    response = SurveyResponse.objects.get()
    assert (response.contact, response.kind, response.score, response.comment) == (
        contact,
        "nps",
        3,
        "Support is slow",
    )
    assert response.journey == nps_journey and response.csm == alice and response.tier_code == "MM3"
    assert survey_score([account.pk], TUESDAY_10_BERLIN.date()) == {account.pk: 30.0}
    assert Notification.objects.get(recipient=alice, kind="survey_responded").title.startswith("NPS 3 from")
    client.force_login(alice)
    timeline = client.get(f"/accounts/{account.pk}/timeline/", HTTP_HX_REQUEST="true")
    assert "NPS 3 from Jordan Miller in NPS check: “Support is slow”" in timeline.content.decode()


def test_a_second_answer_replaces_the_first(client, account, contact, nps_journey, settings):
    path = _survey_links(account, contact, settings)[6]
    client.post(path, {"score": "6"})

    client.post(path, {"score": "10", "comment": "Much better now"})

    response = SurveyResponse.objects.get()
    assert (response.score, response.comment, response.answers) == (10, "Much better now", 2)


def test_a_score_out_of_range_is_refused_and_records_nothing(client, account, contact, nps_journey, settings):
    path = _survey_links(account, contact, settings)[5]

    for bad in ("11", "-1", "ten", ""):
        refused = client.post(path, {"score": bad})
        assert refused.status_code == 400
        assert b"Choose a score from 0 to 10." in refused.content
    assert SurveyResponse.objects.count() == 0


def test_a_forged_or_altered_token_is_refused(client, account, contact, nps_journey, settings):
    path = _survey_links(account, contact, settings)[8]
    token = path.split("/")[2]
    other = ContactFactory(account=account)
    survey = Survey.objects.get()
    forged = TimestampSigner(salt=SALT, key="not-the-secret").sign(f"{survey.pk}.{other.pk}")

    for bad in (token[:-2] + "xx", forged, "garbage"):
        assert client.post(f"/survey/{bad}/", {"score": "8"}).status_code == 400
    assert SurveyResponse.objects.count() == 0


def test_a_valid_token_for_a_contact_the_survey_was_not_sent_to_is_refused(
    client, account, contact, nps_journey, settings
):
    _survey_links(account, contact, settings)
    survey = Survey.objects.get()
    other = ContactFactory(account=account)  # never emailed this survey
    token = survey_token(survey_id=survey.pk, contact_id=other.pk)

    refused = client.post(f"/survey/{token}/", {"score": "8"})

    assert refused.status_code == 400
    assert SurveyResponse.objects.count() == 0


def test_a_qbr_sends_a_one_off_survey_to_its_participants_a_day_later(
    alice, account, contact, token_client, settings, client, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "http://localhost:8000"
    quiet = ContactFactory(account=account, name="Not in the meeting")
    api = token_client(alice)
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False), django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/touchpoints/",
            {
                "account": account.pk,
                "kind": "qbr",
                "occurred_at": TUESDAY_10_BERLIN.isoformat(),
                "minutes": 60,
                "participants": [contact.pk],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
    with time_machine.travel(TUESDAY_10_BERLIN + dt.timedelta(hours=23), tick=False):
        assert outgoing_mail_dispatch()["sent"] == 0  # not before a day has passed
    row = OutgoingMail.objects.get()
    assert row.contact == contact and row.not_before == TUESDAY_10_BERLIN + dt.timedelta(hours=24)
    assert not OutgoingMail.objects.filter(contact=quiet).exists()

    with time_machine.travel(TUESDAY_10_BERLIN + dt.timedelta(hours=25), tick=False):
        assert outgoing_mail_dispatch()["sent"] == 1
        assert outgoing_mail_dispatch()["sent"] == 0  # sent once
    (message,) = mail.outbox
    assert message.subject == "Northwind Retail: one question about your QBR"
    links = {int(score): path for path, score in LINK.findall(message.body)}
    assert list(links) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    client.post(links[9], {"score": "9"})
    assert SurveyResponse.objects.get().survey.touchpoint.kind == "qbr"
    assert OutgoingMail.objects.get().status == MailStatus.SENT


def test_the_api_lists_survey_responses_per_account(
    client, alice, tom, account, contact, nps_journey, settings, token_client
):
    path = _survey_links(account, contact, settings)[7]
    client.post(path, {"score": "7", "comment": "ok"})
    response = SurveyResponse.objects.get()

    listed = token_client(alice).get(f"/api/v1/survey-responses/?account={account.pk}")

    assert listed.status_code == 200
    assert listed.json()["results"] == [
        {
            "id": response.pk,
            "account": account.pk,
            "contact": contact.pk,
            "kind": "nps",
            "score": 7,
            "comment": "ok",
            "responded_at": listed.json()["results"][0]["responded_at"],
            "journey": nps_journey.pk,
        }
    ]
    # An AE who does not own the account sees none of it.
    assert token_client(tom).get(f"/api/v1/survey-responses/?account={account.pk}").json()["results"] == []
    assert token_client(alice).get("/api/v1/survey-responses/?account=x").status_code == 400


def test_an_answer_is_sent_to_webhook_endpoints_listening_for_survey_responded(
    client, lena, account, contact, nps_journey, settings
):
    from integrations.models import WebhookMessage
    from integrations.services import webhook_endpoint_create

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    webhook_endpoint_create(by=lena, url="http://127.0.0.1:9/hooks", events=["survey.responded"])
    path = _survey_links(account, contact, settings)[8]
    client.post(path, {"score": "8", "comment": "Good"})
    client.post(path, {"score": "9"})

    first, second = (json.loads(m.body) for m in WebhookMessage.objects.order_by("id"))
    assert first["type"] == "survey.responded"
    assert first["data"]["account"]["external_id"] == account.external_id
    assert (first["data"]["response"]["score"], first["data"]["response"]["replaced"]) == (8, False)
    assert (second["data"]["response"]["score"], second["data"]["response"]["replaced"]) == (9, True)
