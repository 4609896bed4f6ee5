"""The ``data`` of each webhook event, read in the transaction of the change (set-based per batch).

Every payload carries ``account`` (``id``, ``crm_source``, ``external_id``, ``name``) so a CRM can
match it without another call; the rest is the changed record as the API shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from accounts.models import Account, RenewalOutcome
from engagement.models import Flag, HandoffCommitment, SurveyResponse
from segmentation.models import TierChange, TierOverride

ACCOUNT_FIELDS = ("id", "crm_source", "external_id", "name")


def _accounts(account_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in Account.objects.filter(pk__in=set(account_ids)).values(*ACCOUNT_FIELDS)}


def _username(user: Any) -> str | None:
    return user.username if user is not None else None


def tier_changes(change_ids: Sequence[int]) -> list[dict[str, Any]]:
    """``account.tier_changed``: ``account``, ``from_tier``, ``to_tier``, ``source``,
    ``explanation`` (and the change's id and time)."""
    rows = list(
        TierChange.objects.filter(pk__in=list(change_ids))
        .order_by("pk")
        .values("pk", "account_id", "from_code", "to_code", "source", "explanation", "applied_at")
    )
    accounts = _accounts(row["account_id"] for row in rows)
    return [
        {
            "account": accounts[row["account_id"]],
            "from_tier": row["from_code"] or None,
            "to_tier": row["to_code"],
            "source": row["source"],
            "explanation": row["explanation"],
            "change_id": row["pk"],
            "applied_at": row["applied_at"],
        }
        for row in rows
    ]


def health_band_changes(
    account_ids: Sequence[int], from_bands: Sequence[str], to_bands: Sequence[str]
) -> list[dict[str, Any]]:
    """``account.health_band_changed``: ``account``, ``from_band`` (null before the first score),
    ``to_band``, ``score``."""
    accounts = _accounts(account_ids)
    scores = dict(Account.objects.filter(pk__in=set(account_ids)).values_list("pk", "health_score"))
    return [
        {
            "account": accounts[account_id],
            "from_band": from_band or None,
            "to_band": to_band,
            "score": scores.get(account_id),
        }
        for account_id, from_band, to_band in zip(account_ids, from_bands, to_bands, strict=True)
        if account_id in accounts
    ]


def override(override_id: int, *, decision: str | None = None) -> list[dict[str, Any]]:
    """``override.requested`` / ``override.decided``: ``account`` and ``override`` (with the
    ``decision`` when decided)."""
    o = TierOverride.objects.select_related("requested_by", "decided_by").filter(pk=override_id).first()
    if o is None:
        return []
    data: dict[str, Any] = {
        "account": _accounts([o.account_id])[o.account_id],
        "override": {
            "id": o.pk,
            "tier": o.tier_code,
            "policy_tier": o.policy_tier_code or None,
            "reason": o.reason,
            "note": o.note,
            "expires_on": o.expires_on,
            "status": o.status,
            "needs_approval": o.needs_approval,
            "requested_by": _username(o.requested_by),
            "decided_by": _username(o.decided_by),
            "decision_note": o.decision_note,
        },
    }
    if decision:
        data["decision"] = decision
    return [data]


def commitment(commitment_id: int, *, decision: str | None = None) -> list[dict[str, Any]]:
    """``commitment.logged`` / ``commitment.decided``: ``account`` and ``commitment`` as the API
    shows it (with the ``decision`` when decided)."""
    c = (
        HandoffCommitment.objects.select_related("module", "logged_by", "decided_by")
        .filter(pk=commitment_id)
        .first()
    )
    if c is None:
        return []
    data: dict[str, Any] = {
        "account": _accounts([c.account_id])[c.account_id],
        "commitment": {
            "id": c.pk,
            "module": c.module.code if c.module else None,
            "cadence_days": c.cadence_days,
            "description": c.description,
            "deal_reference": c.deal_reference,
            "status": c.status,
            "explanation": c.check_explanation,
            "logged_by": _username(c.logged_by),
            "decided_by": _username(c.decided_by),
            "decision_reason": c.decision_reason,
            "exception_until": c.exception_until,
        },
    }
    if decision:
        data["decision"] = decision
    return [data]


def flags(flag_ids: Sequence[int]) -> list[dict[str, Any]]:
    """``flag.raised``: ``account`` and ``flag`` (``id``, ``kind``, ``explanation``, times)."""
    rows = list(
        Flag.objects.filter(pk__in=list(flag_ids))
        .order_by("pk")
        .values("pk", "account_id", "kind", "explanation", "raised_at", "expires_at")
    )
    accounts = _accounts(row["account_id"] for row in rows)
    return [
        {
            "account": accounts[row["account_id"]],
            "flag": {
                "id": row["pk"],
                "kind": row["kind"],
                "explanation": row["explanation"],
                "raised_at": row["raised_at"],
                "expires_at": row["expires_at"],
            },
        }
        for row in rows
    ]


def renewals(renewal_ids: Sequence[int]) -> list[dict[str, Any]]:
    """``renewal.recorded``: ``account`` and ``renewal`` (date, outcome, ARR before and after)."""
    rows = list(
        RenewalOutcome.objects.filter(pk__in=list(renewal_ids))
        .order_by("pk")
        .values("pk", "account_id", "renewal_date", "outcome", "arr_before", "arr_after", "churn_reason")
    )
    accounts = _accounts(row["account_id"] for row in rows)
    return [
        {
            "account": accounts[row["account_id"]],
            "renewal": {
                "id": row["pk"],
                "renewal_date": row["renewal_date"],
                "outcome": row["outcome"],
                "arr_before": f"{row['arr_before']:.2f}",
                "arr_after": f"{row['arr_after']:.2f}",
                "churn_reason": row["churn_reason"] or None,
            },
        }
        for row in rows
    ]


def survey_response(response_id: int, *, replaced: bool) -> list[dict[str, Any]]:
    """``survey.responded``: ``account`` and ``response`` as ``GET /api/v1/survey-responses/``
    shows it, with ``replaced`` (True when the contact changed an earlier answer)."""
    rows = list(
        SurveyResponse.objects.filter(pk=response_id).values(
            "pk", "account_id", "contact_id", "kind", "score", "comment", "responded_at", "journey_id"
        )
    )
    accounts = _accounts(row["account_id"] for row in rows)
    return [
        {
            "account": accounts[row["account_id"]],
            "response": {
                "id": row["pk"],
                "contact": row["contact_id"],
                "kind": row["kind"],
                "score": row["score"],
                "comment": row["comment"],
                "responded_at": row["responded_at"],
                "journey": row["journey_id"],
                "replaced": replaced,
            },
        }
        for row in rows
    ]
