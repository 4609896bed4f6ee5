"""Fixtures for journey tests: a small journey, an MM3 account in Berlin with one contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from accounts.models import Account, Contact
from playbooks.models import Journey
from tests.factories import AccountFactory, ContactFactory

from .factories import JourneyFactory, JourneyStepFactory

# A Tuesday, 10:00 in Berlin (CET, UTC+1): inside the default 09:00–17:00 send window.
TUESDAY_10_BERLIN = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def account(alice: Any) -> Account:
    return AccountFactory(
        name="Northwind Retail",
        region="EMEA",
        csm=alice,
        tier_code="MM3",
        tier_name="Mid-Market Tier 3",
        acv=8000,
    )


@pytest.fixture
def contact(account: Account) -> Contact:
    return ContactFactory(account=account, name="Jordan Miller", email="jordan@northwind.example")


@pytest.fixture
def journey(db: None) -> Journey:
    journey = JourneyFactory(code="welcome", name="Welcome", tier_code="MM3")
    JourneyStepFactory(
        journey=journey,
        position=1,
        name="Welcome",
        delay_days=0,
        delay_from="enrolment",
        subject_template="Welcome {{ contact.first_name }}",
        module_code="",
    )
    JourneyStepFactory(
        journey=journey,
        position=2,
        name="Invite your team",
        delay_days=3,
        subject_template="Invite your team at {{ account.name }}",
    )
    JourneyStepFactory(
        journey=journey, position=3, name="Academy", delay_days=7, subject_template="Learn at your own pace"
    )
    return journey
