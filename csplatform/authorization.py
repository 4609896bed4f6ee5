"""Who may see and do what: the one place every page, fragment, API view, selector and service asks.

A role is a Django group (``csplatform.roles``). Ownership (an account's ``csm``/``ae``) counts only
together with the role that goes with it: a person whose role was removed sees nothing and may do
nothing, even on accounts that still name them as owner. A superuser counts as CS Leadership.

Two shapes of the same rules:

- ``may_*`` functions answer for one person (and one object): pages, API views and services.
- ``*_scope`` functions return a ``Q`` of the rows a person may see, for querysets of accounts or of
  anything hanging off an account (``via="account__"``). Every scope has a ``may_*`` twin that
  decides one object the same way; ``tests/security/test_authorization.py`` holds them together.

Nothing here imports an app's models, so every app can use it (``csplatform`` is the core).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from . import roles
from .models import User

if TYPE_CHECKING:
    from .models import AnyUser


class OwnedAccount(Protocol):
    """What the ownership rules read of an account (``accounts.models.Account``, which this core
    module does not import)."""

    @property
    def csm_id(self) -> int | None: ...

    @property
    def ae_id(self) -> int | None: ...


class RequestedOverride(Protocol):
    """What ``may_end_override`` reads of a tier override."""

    @property
    def requested_by_id(self) -> int | None: ...


# --- Who someone is --------------------------------------------------------------------------------


def signed_in(user: AnyUser) -> User:
    """The person a page or API view acts for, typed as a ``User`` for the services it calls.

    Pages pass the login middleware and API views ``IsAuthenticated``, so an anonymous visitor does
    not get here; should a view ever be wired without them, refuse rather than act for nobody.
    """
    if not isinstance(user, User):
        raise PermissionDenied("Sign in first.")
    return user


def has_any_role(user: AnyUser) -> bool:
    """Whether the person may use the product at all (the API refuses everyone else)."""
    return bool(getattr(user, "is_superuser", False)) or roles.has_role(user, *roles.ALL_ROLES)


def sees_every_account(user: AnyUser) -> bool:
    """CS Leadership and integrations read the whole book; CSMs and AEs read their own accounts."""
    return roles.is_leader(user) or roles.is_integration(user)


def _pk(user: AnyUser) -> int | None:
    return getattr(user, "pk", None)


def _owns_as_csm(user: AnyUser, account: OwnedAccount) -> bool:
    return roles.is_csm(user) and account.csm_id is not None and account.csm_id == _pk(user)


def _owns_as_ae(user: AnyUser, account: OwnedAccount) -> bool:
    return roles.is_account_executive(user) and account.ae_id is not None and account.ae_id == _pk(user)


# --- Seeing accounts and what hangs off them --------------------------------------------------------


def _nothing(via: str) -> Q:
    # An empty IN: Django answers without asking the database.
    return Q(**{f"{via}pk__in": []})


def account_scope(user: AnyUser, *, via: str = "") -> Q:
    """The accounts ``user`` may see, as a filter reaching the account through ``via``.

    ``via`` is ``""`` on ``Account`` itself and ``"account__"`` on touchpoints, tasks, commitments,
    flags, overrides, proposals, add-ons and every other model with an ``account`` foreign key.
    """
    if sees_every_account(user):
        return Q()
    scope = Q()
    if roles.is_csm(user):
        scope |= Q(**{f"{via}csm_id": _pk(user)})
    if roles.is_account_executive(user):
        scope |= Q(**{f"{via}ae_id": _pk(user)})
    return scope if scope else _nothing(via)


def may_see_account(user: AnyUser, account: OwnedAccount) -> bool:
    """One account, decided like ``account_scope``."""
    return sees_every_account(user) or _owns_as_csm(user, account) or _owns_as_ae(user, account)


def may_browse_accounts(user: AnyUser) -> bool:
    """The account list and export pages: for the people who work accounts (not integrations)."""
    return roles.is_leader(user) or roles.has_role(user, roles.CSM, roles.ACCOUNT_EXECUTIVE)


def may_read_accounts(user: AnyUser) -> bool:
    """The accounts API: every role reads (CSMs and AEs only their own, see ``account_scope``)."""
    return sees_every_account(user) or roles.has_role(user, roles.CSM, roles.ACCOUNT_EXECUTIVE)


# --- Changing accounts --------------------------------------------------------------------------------


def may_create_accounts(user: AnyUser) -> bool:
    return sees_every_account(user)


def may_edit_account(user: AnyUser, account: OwnedAccount) -> bool:
    """Leadership and integrations edit any account; a CSM edits the accounts they own as CSM."""
    return sees_every_account(user) or _owns_as_csm(user, account)


def may_reassign_owners(user: AnyUser) -> bool:
    """Moving an account to another CSM or AE changes someone's portfolio: leadership decides."""
    return sees_every_account(user)


def may_write_tier_inputs(user: AnyUser) -> bool:
    """The fields that decide a tier (ACV, lifecycle stage, renewal date) come from the CRM
    integration or CS Leadership. Anyone else who may edit the account proposes a change to them
    (``accounts.services.governance``), or overrides the tier with its approval rules."""
    return sees_every_account(user)


def may_propose_tier_inputs(user: AnyUser, account: OwnedAccount) -> bool:
    """The account's CSM proposes a change to its tier inputs; leadership decides."""
    return _owns_as_csm(user, account)


def may_own_as_csm(user: AnyUser) -> bool:
    """Only a person holding the CSM role may be an account's owning CSM."""
    return roles.is_csm(user)


def may_own_as_ae(user: AnyUser) -> bool:
    """Only a person holding the Account Executive role may be an account's owning AE."""
    return roles.is_account_executive(user)


def may_accept_tier_proposal(user: AnyUser, account: OwnedAccount, *, caused_it: bool, ranks: int) -> bool:
    """Accept a tier proposal: whoever does CS work on the account, except that the person whose
    own change caused a proposal never accepts it when it moves the account more than one rank
    (whatever their role): that move needs a second person, like an override of that size."""
    if not may_do_cs_work(user, account):
        return False
    return not (caused_it and ranks > 1)


def may_sync(user: AnyUser) -> bool:
    """Bulk CRM sync is for integration users (and superusers operating the product)."""
    return bool(getattr(user, "is_superuser", False)) or roles.is_integration(user)


# --- Working on an account ---------------------------------------------------------------------------


def may_work_on(user: AnyUser, account: OwnedAccount) -> bool:
    """Log touchpoints, create tasks, ask for an add-on: leadership, or the account's CSM or AE."""
    return roles.is_leader(user) or _owns_as_csm(user, account) or _owns_as_ae(user, account)


def may_do_cs_work(user: AnyUser, account: OwnedAccount, *, assignee_id: int | None = None) -> bool:
    """CS work: close or snooze tasks, resolve flags, decide tier proposals, override the tier from
    the account page, enrol contacts in journeys. The account's CSM or leadership; for a task also
    the person it is assigned to, while they hold a role. An AE sees that work but does not do it."""
    if roles.is_leader(user) or _owns_as_csm(user, account):
        return True
    return assignee_id is not None and assignee_id == _pk(user) and has_any_role(user)


def cs_work_scope(user: AnyUser, *, via: str = "") -> Q:
    """The accounts on which ``user`` may do CS work (``may_do_cs_work`` without an assignee)."""
    if roles.is_leader(user):
        return Q()
    if roles.is_csm(user):
        return Q(**{f"{via}csm_id": _pk(user)})
    return _nothing(via)


def may_record_renewal(user: AnyUser, account: OwnedAccount) -> bool:
    """Record a renewal outcome on the account page: the account's CSM or CS Leadership. (The CRM
    syncs outcomes through ``may_sync``; an AE sees them but does not record them.)"""
    return roles.is_leader(user) or _owns_as_csm(user, account)


def may_request_override(user: AnyUser) -> bool:
    """CSMs and leadership override tiers; one on an account the CSM does not own waits for approval
    (``segmentation.services.overrides``), and pages only offer the accounts the person sees."""
    return roles.is_leader(user) or roles.is_csm(user)


def may_end_override(user: AnyUser, override: RequestedOverride) -> bool:
    """Leadership, or the person who asked for the override while they may still ask for one."""
    if roles.is_leader(user):
        return True
    return override.requested_by_id == _pk(user) and may_request_override(user)


def may_log_commitment(user: AnyUser, account: OwnedAccount) -> bool:
    """A promise made during the sale: the account's AE, or leadership."""
    return roles.is_leader(user) or _owns_as_ae(user, account)


# --- Pages and queues by role ----------------------------------------------------------------------


def may_keep_worklist(user: AnyUser) -> bool:
    """The worklist, capacity and the journey screens a CSM reads: CSMs and leadership."""
    return roles.is_csm(user) or roles.is_leader(user)


def may_log_handoffs(user: AnyUser) -> bool:
    """The handoff pages: Account Executives and leadership."""
    return roles.is_account_executive(user) or roles.is_leader(user)


def may_save_view(user: AnyUser, page: str) -> bool:
    """A person keeps saved views on a list page they may open (``SavedView.Page``)."""
    if page == "worklist":
        return may_keep_worklist(user)
    if page == "accounts":
        return may_browse_accounts(user)
    return False


def may_lead(user: AnyUser) -> bool:
    """CS Leadership's own views: the overview and its panels, approvals, CSM suggestions."""
    return roles.is_leader(user)


def may_decide_approvals(user: AnyUser) -> bool:
    """Approve or decline overrides, commitments beyond the tier and add-on modules."""
    return roles.is_leader(user)


def may_manage_policies(user: AnyUser) -> bool:
    """Tier policies and entitlements, journeys and their settings, stuck journey emails."""
    return roles.is_leader(user)


def may_manage_health_scorecards(user: AnyUser) -> bool:
    """Health scorecards: drafts, their backtest, fitting weights to outcomes, activation."""
    return roles.is_leader(user)


def may_run_reviews(user: AnyUser) -> bool:
    """Start and follow tier reviews: leadership, or an integration scheduling them."""
    return roles.is_leader(user) or roles.is_integration(user)


def may_read_health_scorecards(user: AnyUser) -> bool:
    """The health scorecards (versions, components, bands): CSMs and leadership."""
    return roles.is_csm(user) or roles.is_leader(user)


# --- Outcomes and retention ------------------------------------------------------------------------


def may_read_retention(user: AnyUser) -> bool:
    """The retention report (API): leadership and integrations over the whole book, a CSM over the
    accounts they own. AEs do not read it: it measures the CS service, not the sale."""
    return sees_every_account(user) or roles.is_csm(user)


def retention_csm_filter(user: AnyUser) -> int | None:
    """Whose accounts a person's retention report covers: ``None`` for everyone's (leadership,
    integrations), else the CSM's own id. Only asked after ``may_read_retention``."""
    return None if sees_every_account(user) else _pk(user)


# --- Integrations ----------------------------------------------------------------------------------


def may_manage_webhooks(user: AnyUser) -> bool:
    """Outbound webhook endpoints, their delivery log and redeliveries: CS Leadership and
    integrations. The payloads carry data of every account, so nobody with a narrower view."""
    return roles.is_leader(user) or roles.is_integration(user)
