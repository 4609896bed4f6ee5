"""Reads of accounts shaped for pages and the API; every list is scoped to what the reader may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from csplatform import authorization

from .models import Account, AccountInputProposal, InputProposalStatus, LifecycleStage, RenewalOutcome

if TYPE_CHECKING:
    from csplatform.models import AnyUser


# The active book: every account that has not churned. A churned account no longer counts in tier
# totals, coverage, capacity, the worklist or the nightly health run; this is the one definition.
# SQL in ``queries`` modules takes ``CHURNED_STAGE`` as a named parameter instead.
CHURNED_STAGE = LifecycleStage.CHURNED.value


def in_active_book(*, via: str = "") -> Q:
    """The active-book condition on accounts, or on rows reached through ``via`` (e.g. ``"account__"``)."""
    return ~Q(**{f"{via}lifecycle_stage": CHURNED_STAGE})


def active_book() -> QuerySet[Account]:
    """Every account in the active book (not churned)."""
    return Account.objects.filter(in_active_book())


def accounts_visible_to(*, user: AnyUser) -> QuerySet[Account]:
    """Accounts ``user`` may see (``authorization.account_scope``), for pages and the API alike.

    Owners are joined so a page or an API list renders usernames without a query per row.
    """
    return Account.objects.select_related("csm", "ae").filter(authorization.account_scope(user))


def account_for_input(*, user: AnyUser, account_id: int, field: str = "account") -> Account:
    """The account a request body names, among those ``user`` may see.

    One they may not see answers exactly like one that does not exist ("Unknown account N."), so a
    body cannot be used to probe which ids are customers; whether they may act on a visible one is
    the service's question.
    """
    account = accounts_visible_to(user=user).filter(pk=account_id).first()
    if account is None:
        raise ValidationError({field: [f"Unknown account {account_id}."]})
    return account


# Columns a higher app adds to the accounts the API shows (segmentation: the health explanation and
# trend from its history), as expressions over the account built on each use.
_API_ANNOTATIONS: dict[str, Callable[[], Any]] = {}


def register_account_annotation(name: str, build: Callable[[], Any]) -> None:
    """Called from a higher app's ``AppConfig.ready()``; the API list and detail select the column
    in their own query (no query per row)."""
    _API_ANNOTATIONS[name] = build


def accounts_for_api(*, user: Any) -> QuerySet[Account]:
    """``accounts_visible_to`` with the registered columns (health summary, version, trend)."""
    accounts = accounts_visible_to(user=user)
    if not _API_ANNOTATIONS:
        return accounts
    return accounts.annotate(**{name: build() for name, build in _API_ANNOTATIONS.items()})


def account_health(account: Account) -> dict[str, Any] | None:
    """The account's latest health as the API shows it, or None before its first computation.

    ``trend_30d``, ``scorecard_version`` and ``explanation`` come from the columns segmentation
    registers (``accounts_for_api``); an account read without them shows them as null.
    """
    if account.health_score is None:
        return None
    before = getattr(account, "health_score_30d_before", None)
    return {
        "score": account.health_score,
        "band": account.health_band,
        "as_of": account.health_on,
        "trend_30d": None if before is None else account.health_score - before,
        "scorecard_version": getattr(account, "health_scorecard_version", None),
        "explanation": getattr(account, "health_summary", None),
    }


def account_tier(account: Account) -> dict[str, str] | None:
    """The account's effective tier as the API and pages show it, or None before a review."""
    if not account.tier_code:
        return None
    return {
        "code": account.tier_code,
        "name": account.tier_name,
        "source": account.tier_source,
        "explanation": account.tier_explanation,
    }


def account_renewals(*, account: Account) -> QuerySet[RenewalOutcome]:
    """The account's renewal outcomes, newest renewal first, with who recorded them."""
    return (
        RenewalOutcome.objects.filter(account=account).select_related("recorded_by").order_by("-renewal_date")
    )


def input_proposals_pending(*, user: AnyUser) -> QuerySet[AccountInputProposal]:
    """Pending changes to tier inputs on the accounts ``user`` may see, oldest first."""
    return (
        AccountInputProposal.objects.filter(
            authorization.account_scope(user, via="account__"), status=InputProposalStatus.PENDING
        )
        .select_related("account", "requested_by", "decided_by")
        .order_by("id")
    )
