"""Models of the engagement app, one module per sub-domain; each is imported here."""

from .capacity import CsmPortfolioSummary
from .commitments import CommitmentStatus, HandoffCommitment
from .coverage import EntitlementCoverage
from .deliveries import DeliverySource, ModuleDelivery
from .email_events import EmailEvent, EmailEventKind
from .flags import ChampionWatch, Flag, FlagKind, FlagStatus
from .outbox import (
    EnrolmentStatus,
    JourneyEnrolment,
    JourneySettings,
    OutboundEmail,
    OutboundStatus,
    StopReason,
)
from .retention import RetentionDaySums
from .tasks import PlaybookRun, Task, TaskStatus
from .touchpoints import Touchpoint, TouchpointKind

__all__ = [
    "ChampionWatch",
    "CommitmentStatus",
    "CsmPortfolioSummary",
    "DeliverySource",
    "EmailEvent",
    "EmailEventKind",
    "EnrolmentStatus",
    "EntitlementCoverage",
    "Flag",
    "FlagKind",
    "FlagStatus",
    "HandoffCommitment",
    "JourneyEnrolment",
    "JourneySettings",
    "ModuleDelivery",
    "OutboundEmail",
    "OutboundStatus",
    "PlaybookRun",
    "RetentionDaySums",
    "StopReason",
    "Task",
    "TaskStatus",
    "Touchpoint",
    "TouchpointKind",
]
