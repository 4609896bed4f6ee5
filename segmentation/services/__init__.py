"""Segmentation services: every write and every rule of tiering lives here.

Import from the sub-modules (``segmentation.services.overrides`` ...) or from this package.
"""

from .economics import account_cost_to_serve
from .evaluation import enqueue_reevaluation, evaluate_batch, tier_evaluate_accounts
from .feedback import override_feedback
from .initial_tiers import tier_assign_initial
from .overrides import (
    tier_override_approve,
    tier_override_decline,
    tier_override_end,
    tier_override_request,
    tier_overrides_expire,
)
from .policies import (
    policy_errors,
    tier_policy_activate,
    tier_policy_clone,
    tier_policy_delete_draft,
    tier_policy_update,
)
from .proposals import tier_proposal_accept, tier_proposal_reject
from .reviews import ReviewInProgress, tier_review_run, tier_review_start
from .simulation import tier_policy_simulate

__all__ = [
    "ReviewInProgress",
    "account_cost_to_serve",
    "enqueue_reevaluation",
    "evaluate_batch",
    "override_feedback",
    "policy_errors",
    "tier_assign_initial",
    "tier_evaluate_accounts",
    "tier_override_approve",
    "tier_override_decline",
    "tier_override_end",
    "tier_override_request",
    "tier_overrides_expire",
    "tier_policy_activate",
    "tier_policy_clone",
    "tier_policy_delete_draft",
    "tier_policy_simulate",
    "tier_policy_update",
    "tier_proposal_accept",
    "tier_proposal_reject",
    "tier_review_run",
    "tier_review_start",
]
