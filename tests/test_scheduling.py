from datetime import UTC, datetime, timedelta

import pytest

from csplatform.scheduling import claim_slot

pytestmark = pytest.mark.django_db


def test_it_claims_a_slot_once():
    now = datetime(2026, 11, 22, 3, 15, tzinfo=UTC)
    assert claim_slot("job", every=timedelta(days=1), now=now) is True
    assert claim_slot("job", every=timedelta(days=1), now=now + timedelta(hours=2)) is False


def test_a_new_slot_can_be_claimed_again():
    now = datetime(2026, 11, 22, 3, 15, tzinfo=UTC)
    assert claim_slot("job", every=timedelta(hours=1), now=now)
    assert claim_slot("job", every=timedelta(hours=1), now=now + timedelta(hours=1))
    assert claim_slot("other", every=timedelta(hours=1), now=now)
