"""RFC 8058 one-click unsubscribe, the headers every email carries, and header injection."""

from __future__ import annotations

import datetime as dt
from email import message_from_bytes
from email.utils import getaddresses

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client
from django.urls import reverse

from accounts.models import Contact
from engagement.journeys.schedule import journey_due_steps_schedule
from engagement.journeys.sending import outbound_dispatch
from engagement.journeys.services import enrolment_start_for_account
from engagement.journeys.unsubscribe import SALT, contact_id_from_token, unsubscribe_token, unsubscribe_url
from engagement.models import EnrolmentStatus, JourneyEnrolment, OutboundEmail, OutboundStatus
from tests.factories import ContactFactory

from .conftest import TUESDAY_10_BERLIN

pytestmark = pytest.mark.django_db


def send_due(now: dt.datetime = TUESDAY_10_BERLIN) -> None:
    with time_machine.travel(now, tick=False):
        journey_due_steps_schedule(now=now)
        outbound_dispatch()


def enrol(account) -> None:
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="test")


def path_of(url: str) -> str:
    return url.split("testserver", 1)[-1] if "testserver" in url else "/" + url.split("/", 3)[3]


def test_every_email_has_one_click_unsubscribe_headers(account, contact, journey, settings):
    settings.SITE_URL = "https://cs.example.com"
    enrol(account)
    send_due()

    message = mail.outbox[0].message()
    header = message["List-Unsubscribe"]
    assert header.startswith("<https://cs.example.com/unsubscribe/") and header.endswith("/>")
    token = header.removeprefix("<https://cs.example.com/unsubscribe/").removesuffix("/>")
    assert contact_id_from_token(token) == contact.pk
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://cs.example.com/unsubscribe/" in mail.outbox[0].body


def test_one_click_post_unsubscribes_without_login_or_cookies(account, contact, journey):
    enrol(account)
    client = Client(enforce_csrf_checks=True)  # as a mail provider: no session, no CSRF cookie
    url = path_of(unsubscribe_url(contact_id=contact.pk))

    response = client.post(
        url, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.unsubscribed_at is not None and contact.email_opt_out is True
    enrolment = JourneyEnrolment.objects.get()
    assert enrolment.status == EnrolmentStatus.STOPPED and enrolment.stop_reason == "unsubscribed"


def test_a_get_shows_a_confirmation_and_never_unsubscribes(account, contact, journey):
    enrol(account)
    response = Client().get(path_of(unsubscribe_url(contact_id=contact.pk)))

    assert response.status_code == 200
    assert b'<form method="post"' in response.content and b"Unsubscribe</button>" in response.content
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None
    assert JourneyEnrolment.objects.get().status == EnrolmentStatus.ACTIVE


def test_a_forged_token_is_refused(contact):
    forged = unsubscribe_token(contact_id=contact.pk)[:-3] + "abc"
    other = signing.TimestampSigner(salt="something-else").sign(signing.b62_encode(contact.pk))

    for token in (forged, other, "nonsense"):
        response = Client().post(reverse("journeys:unsubscribe", kwargs={"token": token}))
        assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None


def test_an_expired_token_is_refused(contact, settings):
    settings.JOURNEY_UNSUBSCRIBE_MAX_AGE_DAYS = 30
    with time_machine.travel(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), tick=False):
        token = signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(contact.pk))
    with time_machine.travel(dt.datetime(2026, 3, 1, tzinfo=dt.UTC), tick=False):
        response = Client().post(reverse("journeys:unsubscribe", kwargs={"token": token}))

    assert response.status_code == 400
    contact.refresh_from_db()
    assert contact.unsubscribed_at is None


def test_unsubscribed_contacts_are_never_mailed_again_by_any_journey(account, contact, journey):
    enrol(account)
    send_due()
    assert len(mail.outbox) == 1
    Client().post(path_of(unsubscribe_url(contact_id=contact.pk)))

    for days in range(1, 30):
        send_due(TUESDAY_10_BERLIN + dt.timedelta(days=days))
    assert enrolment_start_for_account(journey_code="welcome", account_id=account.pk, source="again") == 0
    assert len(mail.outbox) == 1


def test_a_queued_email_is_cancelled_when_the_contact_unsubscribes(account, contact, journey):
    enrol(account)
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        journey_due_steps_schedule(now=TUESDAY_10_BERLIN)
    Client().post(path_of(unsubscribe_url(contact_id=contact.pk)))
    outbound_dispatch()

    assert mail.outbox == []
    assert OutboundEmail.objects.get().status == OutboundStatus.CANCELLED


def test_a_crm_sync_does_not_undo_an_unsubscribe(account, contact, journey, integration_client):
    Client().post(path_of(unsubscribe_url(contact_id=contact.pk)))
    # Whatever a CRM writes later, the person's opt-out stays (the contact keeps unsubscribed_at).
    Contact.objects.filter(pk=contact.pk).update(email_opt_out=False)
    enrol(account)
    send_due()

    assert mail.outbox == []


def test_a_newline_in_a_name_cannot_add_a_header(account, journey):
    ContactFactory(
        account=account,
        name="Eve\r\nBcc: victim@evil.example\nX-Injected: yes",
        email="eve@northwind.example",
    )
    journey.steps.filter(position=1).update(subject_template="Hello {{ contact.name }}")
    enrol(account)
    send_due()

    assert len(mail.outbox) == 1
    raw = mail.outbox[0].message().as_bytes()
    parsed = message_from_bytes(raw)
    assert parsed["Bcc"] is None and parsed["X-Injected"] is None
    assert mail.outbox[0].bcc == []
    assert "\n" not in mail.outbox[0].subject
    assert mail.outbox[0].subject == "Hello Eve Bcc: victim@evil.example X-Injected: yes"
    assert [address for _, address in getaddresses(parsed.get_all("To"))] == ["eve@northwind.example"]


def test_the_sender_signs_links_exactly_as_djangos_signer_does(settings):
    with time_machine.travel(TUESDAY_10_BERLIN, tick=False):
        expected = signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(4242))
        assert unsubscribe_token(contact_id=4242) == expected
        settings.SECRET_KEY = "x" * 50  # a rotated key
        rotated = unsubscribe_token(contact_id=4242)
        assert rotated != expected
        assert rotated == signing.TimestampSigner(salt=SALT).sign(signing.b62_encode(4242))
