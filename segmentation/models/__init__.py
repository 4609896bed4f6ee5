from .changes import ChangeSource, ChangeStatus, TierChange
from .overrides import OverrideReason, OverrideStatus, TierOverride
from .policies import ApplyMode, PolicyStatus, Tier, TierPolicy, TouchModel
from .reviews import ReviewStatus, ReviewTrigger, TierReview
from .state import AccountTierState
from .summaries import OverrideSummary, Quadrant, QuadrantSummary, TierMigration, TierSummary

__all__ = [
    "AccountTierState",
    "ApplyMode",
    "ChangeSource",
    "ChangeStatus",
    "OverrideReason",
    "OverrideStatus",
    "OverrideSummary",
    "PolicyStatus",
    "Quadrant",
    "QuadrantSummary",
    "ReviewStatus",
    "ReviewTrigger",
    "Tier",
    "TierChange",
    "TierMigration",
    "TierOverride",
    "TierPolicy",
    "TierReview",
    "TierSummary",
    "TouchModel",
]
