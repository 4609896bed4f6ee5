"""The policy editor's rule builder: rules written as rows of signal, comparison, value and effect,
saved as the policy's rule JSON; the JSON stays editable and wins when it was edited."""

from __future__ import annotations

import json

import pytest

from segmentation.models import TierPolicy
from tests.web.test_leadership import _draft, _editor_post

pytestmark = pytest.mark.django_db

ROWS = {
    "rules_source": "builder",
    "rules-TOTAL_FORMS": 1,
    "rules-INITIAL_FORMS": 0,
    "rules-MIN_NUM_FORMS": 0,
    "rules-MAX_NUM_FORMS": 50,
}


def _rule(i=0, **fields):
    return {f"rules-{i}-{name}": value for name, value in {"match": "all", **fields}.items()}


def test_a_leader_writes_a_rule_in_rows_and_it_is_saved_as_the_policy_json(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    data = _editor_post(
        draft,
        **ROWS,
        **_rule(
            name="Fast growth near the next threshold",
            c1_signal="active_users_trend_90d",
            c1_op=">=",
            c1_value="30",
            c2_signal="acv_within_pct_of_next_threshold",
            c2_op="between",
            c2_value="0 - 20",
            c3_signal="has_champion",
            c3_op="==",
            c3_value="yes",
            effect_type="promote",
            effect_ranks="1",
        ),
    )

    response = client.post(f"/policies/{draft.id}/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert TierPolicy.objects.get(pk=draft.pk).rules == [
        {
            "name": "Fast growth near the next threshold",
            "when": [
                {"signal": "active_users_trend_90d", "op": ">=", "value": 30},
                {"signal": "acv_within_pct_of_next_threshold", "op": "between", "value": [0, 20]},
                {"signal": "has_champion", "op": "==", "value": True},
            ],
            "effect": {"type": "promote", "ranks": 1},
        }
    ]
    page = client.get(f"/policies/{draft.id}/").content.decode()
    assert 'value="Fast growth near the next threshold"' in page
    assert ">Active users (%)</option>" in page and ">is at least</option>" in page, "readable labels"
    assert 'value="0 - 20"' in page


def test_a_bad_value_in_a_row_is_refused_in_words_and_nothing_is_saved(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    data = _editor_post(
        draft, **ROWS, **_rule(c1_signal="seat_utilisation", c1_op=">=", c1_value="lots", effect_type="flag")
    )

    response = client.post(f"/policies/{draft.id}/", data, headers={"HX-Request": "true"})

    assert response.status_code == 422
    assert "is not a number" in response.content.decode()
    assert TierPolicy.objects.get(pk=draft.pk).rules == []


def test_edited_json_wins_over_the_rows(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    rules = json.dumps(
        [
            {
                "name": "At risk",
                "when": [{"signal": "health_band", "op": "==", "value": "at_risk"}],
                "effect": {"type": "flag", "kind": "health_at_risk", "days": 14},
            }
        ]
    )
    data = _editor_post(draft, **{**ROWS, "rules_source": "json"}, rules=rules)

    assert client.post(f"/policies/{draft.id}/", data).status_code == 302
    assert TierPolicy.objects.get(pk=draft.pk).rules[0]["effect"] == {
        "type": "flag",
        "kind": "health_at_risk",
        "days": 14,
    }


def test_removing_a_rule_row_removes_the_rule(lena, signed_in):
    client = signed_in(lena)
    draft = _draft(client)
    TierPolicy.objects.filter(pk=draft.pk).update(
        rules=[
            {
                "name": "Cap",
                "when": [{"signal": "acv", "op": ">=", "value": 1}],
                "effect": {"type": "cap", "tier": "MM1"},
            }
        ]
    )
    data = _editor_post(
        draft,
        **{**ROWS, "rules-TOTAL_FORMS": 2, "rules-INITIAL_FORMS": 1},
        **_rule(
            0,
            name="Cap",
            c1_signal="acv",
            c1_op=">=",
            c1_value="1",
            effect_type="cap",
            effect_tier="MM1",
            DELETE="on",
        ),
        **_rule(1),
    )
    assert client.post(f"/policies/{draft.id}/", data).status_code == 302
    assert TierPolicy.objects.get(pk=draft.pk).rules == []
