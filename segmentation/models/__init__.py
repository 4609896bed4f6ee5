from .book import TierBookDelta
from .changes import ChangeSource, ChangeStatus, TierChange
from .cost_inputs import AccountCostInputs, CostInputsWindow
from .health import (
    AccountHealth,
    HealthBand,
    HealthComponent,
    HealthScorecard,
    PointsDirection,
    ScorecardStatus,
)
from .overrides import OverrideReason, OverrideStatus, TierOverride
from .policies import ApplyMode, PolicyStatus, Tier, TierPolicy, TouchModel
from .reviews import ReviewStatus, ReviewTrigger, TierReview, TierReviewChunk
from .state import AccountTierState
from .summaries import OverrideSummary, Quadrant, QuadrantSummary, TierMigration, TierSummary

__all__ = [
    "AccountCostInputs",
    "AccountHealth",
    "AccountTierState",
    "ApplyMode",
    "ChangeSource",
    "ChangeStatus",
    "CostInputsWindow",
    "HealthBand",
    "HealthComponent",
    "HealthScorecard",
    "OverrideReason",
    "OverrideStatus",
    "OverrideSummary",
    "PointsDirection",
    "PolicyStatus",
    "Quadrant",
    "QuadrantSummary",
    "ReviewStatus",
    "ReviewTrigger",
    "ScorecardStatus",
    "Tier",
    "TierBookDelta",
    "TierChange",
    "TierMigration",
    "TierOverride",
    "TierPolicy",
    "TierReview",
    "TierReviewChunk",
    "TierSummary",
    "TouchModel",
]
