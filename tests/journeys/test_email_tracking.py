"""The email provider's reports through anymail's real tracking URL (Postmark's payloads): each kind
recorded once and acted on, the basic-auth secret required, results and timeline showing them."""

from __future__ import annotations

import base64
import json

import pytest
from django.urls import reverse

from accounts.models import Contact
from engagement.journeys.sending import outbound_message
from engagement.models import EmailEvent, EnrolmentStatus, JourneyEnrolment, OutboundStatus, StopReason
from tests.factories import ContactFactory

from .factories import OutboundEmailFactory

URL = "/anymail/postmark/tracking/"
SECRET = "postmark:tr4cking-s3cret"


@pytest.fixture(autouse=True)
def tracking_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


@pytest.fixture
def sent(contact, journey):
    """A journey email sent to Jordan, whose enrolment is still active."""
    enrolment_step = journey.steps.get(position=1)
    email = OutboundEmailFactory(
        enrolment__journey=journey,
        enrolment__contact=contact,
        step=enrolment_step,
        status=OutboundStatus.SENT,
        subject="Welcome Jordan",
        message_id="pm-0001",
    )
    return email


def auth(secret=SECRET):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def post(client, payload, **headers):
    return client.post(URL, json.dumps(payload), content_type="application/json", **(headers or auth()))


def report(record_type, sent, **fields):
    base = {
        "RecordType": record_type,
        "MessageID": "pm-0001",
        "Recipient": sent.to_email,
        "Metadata": {"outbound_id": str(sent.pk)},
    }
    return {**base, **fields}


BOUNCE = {
    "ID": 4323372036854775807,
    "Type": "HardBounce",
    "Email": "jordan@northwind.example",
    "BouncedAt": "2026-11-24T10:05:00Z",
    "Description": "The mailbox does not exist.",
    "Details": "smtp;550 5.1.1",
}
REPORTS = {
    "delivered": ("Delivery", {"DeliveredAt": "2026-11-24T10:00:01Z", "Details": "Test delivery"}),
    "bounced": ("Bounce", BOUNCE),
    "rejected": (
        "Bounce",
        {**BOUNCE, "ID": 11, "Type": "BadEmailAddress", "Description": "Invalid address."},
    ),
    "complained": (
        "SpamComplaint",
        {**BOUNCE, "ID": 12, "Type": "SpamComplaint", "Description": "Marked as spam."},
    ),
    "unsubscribed": (
        "SubscriptionChange",
        {
            "ChangedAt": "2026-11-24T11:00:00Z",
            "SuppressSending": True,
            "SuppressionReason": "ManualSuppression",
        },
    ),
    "opened": ("Open", {"ReceivedAt": "2026-11-24T10:30:00Z", "UserAgent": "Mail/1.0"}),
    "clicked": (
        "Click",
        {"ReceivedAt": "2026-11-24T10:31:00Z", "OriginalLink": "https://help.example/start"},
    ),
}
EFFECT = {
    "delivered": None,
    "bounced": StopReason.BOUNCED,
    "rejected": StopReason.BOUNCED,
    "complained": StopReason.UNSUBSCRIBED,
    "unsubscribed": StopReason.UNSUBSCRIBED,
    "opened": None,
    "clicked": None,
}


@pytest.mark.parametrize("kind", list(REPORTS))
def test_each_report_is_recorded_and_acted_on(client, sent, kind):
    record_type, fields = REPORTS[kind]
    response = post(client, report(record_type, sent, **fields))
    assert response.status_code == 200, response.content
    event = EmailEvent.objects.get()
    assert (event.kind, event.outbound_id, event.journey_id, event.account_id, event.contact_id) == (
        kind,
        sent.pk,
        sent.journey_id,
        sent.account_id,
        sent.contact_id,
    )
    assert event.provider == "Postmark" and event.recipient == "jordan@northwind.example"
    contact = Contact.objects.get(pk=sent.contact_id)
    enrolment = JourneyEnrolment.objects.get(pk=sent.enrolment_id)
    if EFFECT[kind] is None:
        assert (contact.bounced_at, contact.unsubscribed_at) == (None, None)
        assert enrolment.status == EnrolmentStatus.ACTIVE
    else:
        assert (enrolment.status, enrolment.stop_reason) == (EnrolmentStatus.STOPPED, EFFECT[kind])
        if EFFECT[kind] == StopReason.BOUNCED:
            assert contact.bounced_at is not None and contact.unsubscribed_at is None
        else:
            assert contact.unsubscribed_at is not None and contact.email_opt_out
    if kind == "clicked":
        assert event.detail == "https://help.example/start"


def test_a_repeated_report_is_recorded_once(client, sent):
    for _ in range(2):
        assert post(client, report("Bounce", sent, **BOUNCE)).status_code == 200
        assert post(client, report("Open", sent, ReceivedAt="2026-11-24T10:30:00Z")).status_code == 200
    assert sorted(EmailEvent.objects.values_list("kind", flat=True)) == ["bounced", "opened"]


def test_a_blocked_message_is_recorded_without_touching_the_contact(client, sent):
    post(client, report("Bounce", sent, **{**BOUNCE, "Type": "Blocked", "ID": 99}))
    assert EmailEvent.objects.get().kind == "rejected"
    assert Contact.objects.get(pk=sent.contact_id).bounced_at is None


def test_a_report_without_our_metadata_acts_on_every_contact_with_the_address(client, sent, account):
    twin = ContactFactory(email="Jordan@Northwind.example")  # the same person at another account
    post(client, {**report("Bounce", sent, **BOUNCE), "Metadata": {}})
    assert Contact.objects.get(pk=sent.contact_id).bounced_at is not None
    assert Contact.objects.get(pk=twin.pk).bounced_at is not None
    event = EmailEvent.objects.get()
    assert event.outbound is None and event.contact is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        auth("postmark:wrong"),
        auth("someone:" + SECRET.split(":")[1]),
        {"HTTP_AUTHORIZATION": "Bearer " + SECRET},
    ],
)
def test_a_request_without_the_secret_gets_401_and_changes_nothing(client, sent, headers):
    response = client.post(
        URL, json.dumps(report("Bounce", sent, **BOUNCE)), content_type="application/json", **headers
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not EmailEvent.objects.exists()
    assert Contact.objects.get(pk=sent.contact_id).bounced_at is None


def test_without_a_configured_secret_every_request_is_refused(client, sent, settings):
    settings.ANYMAIL = {}
    response = post(client, report("Bounce", sent, **BOUNCE))
    assert response.status_code == 401
    assert "ANYMAIL_WEBHOOK_SECRET" in response.content.decode()
    assert not EmailEvent.objects.exists()


def test_the_sender_names_the_journey_email_in_the_provider_metadata(sent):
    assert outbound_message(sent).metadata == {"outbound_id": str(sent.pk)}


def test_journey_results_show_what_the_provider_reported(client, lena, sent, journey):
    for kind in ("delivered", "opened", "clicked", "bounced"):
        record_type, fields = REPORTS[kind]
        post(client, report(record_type, sent, **fields))
    post(client, report("Open", sent, ReceivedAt="2026-11-24T12:00:00Z"))  # a second open of the same email
    client.force_login(lena)
    page = client.get(reverse("journeys:results", args=[journey.pk])).content.decode()
    reported = page.split('data-testid="provider-reports"', 1)[1].split("</div>\n</div>", 1)[0]
    values = dict(
        zip(
            ["Delivered", "Bounced", "Complained", "Opened", "Clicked"],
            [
                chunk.split('<div class="value">', 1)[1].split("<", 1)[0]
                for chunk in reported.split('<div class="stat">')[1:]
            ],
            strict=True,
        )
    )
    assert values == {"Delivered": "1", "Bounced": "1", "Complained": "0", "Opened": "1", "Clicked": "1"}


def test_the_account_timeline_shows_the_reports(client, alice, sent, account):
    post(client, report("Bounce", sent, **BOUNCE))
    post(client, report("Click", sent, **REPORTS["clicked"][1]))
    client.force_login(alice)
    page = client.get(reverse("engagement:account-timeline", args=[account.pk])).content.decode()
    assert "Email bounced" in page and "The mailbox does not exist." in page
    assert "Email clicked" in page and "https://help.example/start" in page
    assert "“Welcome Jordan”" in page
