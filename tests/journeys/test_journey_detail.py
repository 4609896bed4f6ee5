"""The journey page shows each step as the email a contact reads: the subject rendered for a
sample contact, the body in a sandboxed frame of its own, the timing, skip condition and module in
words; never the templates' placeholders or module codes."""

from __future__ import annotations

import re

import pytest

from tests.factories import AccountFactory, ContactFactory

from .factories import JourneyStepFactory

pytestmark = pytest.mark.django_db


def test_the_journey_page_shows_each_step_as_the_contact_reads_it(client, lena, contact, journey):
    JourneyStepFactory(
        journey=journey,
        position=4,
        name="Onboarding call",
        subject_template="Your call, {{ contact.first_name }}",
        skip_condition="seat_utilisation >= 0.6",
        module_code="onboarding_kickoff",
    )
    client.force_login(lena)

    response = client.get(f"/journeys/{journey.pk}/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Each step as Jordan Miller of Northwind Retail will read it." in page
    subjects = re.findall(r'data-testid="step-subject">([^<]*)<', page)
    assert subjects == [
        "Welcome Jordan",
        "Invite your team at Northwind Retail",
        "Learn at your own pace",
        "Your call, Jordan",
    ]
    assert "{{" not in page and "seat_utilisation" not in page and "onboarding_kickoff" not in page
    assert "Skipped when</dt><dd>seat utilisation is at least 0.6</dd>" in page
    assert "a delivery of Onboarding kickoff" in page
    frames = re.findall(r'<iframe[^>]*sandbox=""[^>]*src="([^"]+)"', page)
    assert len(frames) == 4 and all("/email/?contact=" in src for src in frames)
    # The page keeps the strict policy: the emails' inline styles live in the frames' documents.
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_a_steps_frame_is_the_rendered_email_alone_sandboxed_and_framed_by_this_site_only(
    client, lena, contact, journey
):
    step = journey.steps.get(position=1)
    step.body_html_template = "<p style='color:#123'>Hi {{ contact.first_name }}</p>"
    step.save()
    client.force_login(lena)

    response = client.get(f"/journeys/{journey.pk}/steps/{step.pk}/email/", {"contact": contact.pk})

    body = response.content.decode()
    policy = response["Content-Security-Policy"]
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "<p style='color:#123'>Hi Jordan</p>" in body and "<title>Welcome Jordan</title>" in body
    assert "sandbox" in policy and "frame-ancestors 'self'" in policy and "script-src 'none'" in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_a_csm_sees_steps_for_their_own_contacts_or_an_example_never_someone_elses(
    client, bob, contact, journey
):
    client.force_login(bob)
    page = client.get(f"/journeys/{journey.pk}/").content.decode()
    assert "Jordan" not in page and "Alex Example" not in page
    assert "an example: none of your contacts fits this journey" in page
    assert "Welcome Alex" in page
    step = journey.steps.get(position=1)
    frame = client.get(f"/journeys/{journey.pk}/steps/{step.pk}/email/", {"contact": contact.pk})
    assert "Jordan" not in frame.content.decode() and "Alex" in frame.content.decode()


@pytest.mark.parametrize("extra_steps", [0, 6])
def test_the_journey_page_stays_at_a_fixed_number_of_queries(
    extra_steps, client, lena, contact, journey, django_assert_max_num_queries
):
    for position in range(4, 4 + extra_steps):
        JourneyStepFactory(journey=journey, position=position, module_code="qbr")
    AccountFactory.create_batch(3, tier_code="MM3")
    ContactFactory(account=AccountFactory(tier_code="MM3"))
    client.force_login(lena)
    with django_assert_max_num_queries(14):
        assert client.get(f"/journeys/{journey.pk}/").status_code == 200
