"""Factories for journeys, enrolments and outbox rows."""

from __future__ import annotations

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from engagement.models import JourneyEnrolment, OutboundEmail
from playbooks.models import Journey, JourneyStep
from tests.factories import ContactFactory


class JourneyFactory(DjangoModelFactory):
    class Meta:
        model = Journey
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"journey-{n}")
    name = factory.Sequence(lambda n: f"Journey {n}")
    tier_code = "MM3"
    send_window_start = dt.time(9, 0)
    send_window_end = dt.time(17, 0)
    send_on_weekends = False


class JourneyStepFactory(DjangoModelFactory):
    class Meta:
        model = JourneyStep

    journey = factory.SubFactory(JourneyFactory)
    position = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Step {n}")
    delay_days = 0
    delay_hours = 0
    delay_from = "previous"
    subject_template = "Hello {{ contact.first_name }} at {{ account.name }}"
    body_text_template = (
        "Hi {{ contact.name }},\n\nsee {{ links.help_center }}\n\nUnsubscribe: {{ links.unsubscribe }}\n"
    )
    body_html_template = ""
    skip_condition = ""
    module_code = ""


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = JourneyEnrolment

    journey = factory.SubFactory(JourneyFactory)
    contact = factory.SubFactory(ContactFactory)
    account = factory.LazyAttribute(lambda o: o.contact.account)
    source = "test"
    enrolled_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC))
    next_position = 1
    next_due_at = factory.LazyAttribute(lambda o: o.enrolled_at)


class OutboundEmailFactory(DjangoModelFactory):
    class Meta:
        model = OutboundEmail

    enrolment = factory.SubFactory(EnrolmentFactory)
    step = factory.LazyAttribute(lambda o: JourneyStepFactory(journey=o.enrolment.journey))
    journey = factory.LazyAttribute(lambda o: o.enrolment.journey)
    account = factory.LazyAttribute(lambda o: o.enrolment.account)
    contact = factory.LazyAttribute(lambda o: o.enrolment.contact)
    to_email = factory.LazyAttribute(lambda o: o.contact.email)
    to_name = factory.LazyAttribute(lambda o: o.contact.name)
    subject = "Subject"
    body_text = "Body"
    body_html = "<p>Body</p>"
