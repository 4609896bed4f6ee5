"""Models of the engagement app, one module per sub-domain; each is imported here."""

from .capacity import CsmPortfolioLoad, CsmPortfolioSummary, CsmTaskLoad
from .commitments import CommitmentStatus, HandoffCommitment
from .coverage import EntitlementCoverage
from .coverage_summary import CoverageSummary, CoverageSummaryBase, CoverageSummaryDimension
from .deliveries import DeliverySource, ModuleDelivery
from .email_events import EmailEvent, EmailEventKind
from .flags import ChampionWatch, Flag, FlagKind, FlagStatus
from .mail import MailKind, MailStatus, OutgoingMail
from .notifications import DigestFrequency, Notification, NotificationKind, NotificationPreference
from .outbox import (
    EnrolmentStatus,
    JourneyEnrolment,
    JourneySettings,
    OutboundEmail,
    OutboundStatus,
    StopReason,
)
from .outbox_archive import ARCHIVE_AFTER, SETTLED_STATUSES, OutboundEmailArchive, OutboundEmailRecord
from .retention import RetentionDaySums
from .surveys import (
    DEFAULT_QUESTIONS,
    SCORE_RANGES,
    Survey,
    SurveyKind,
    SurveyRecipients,
    SurveyResponse,
    TouchpointSurveyRule,
)
from .tasks import PlaybookRun, Task, TaskStatus
from .touchpoints import Touchpoint, TouchpointKind

__all__ = [
    "ARCHIVE_AFTER",
    "DEFAULT_QUESTIONS",
    "SCORE_RANGES",
    "SETTLED_STATUSES",
    "ChampionWatch",
    "CommitmentStatus",
    "CoverageSummary",
    "CoverageSummaryBase",
    "CoverageSummaryDimension",
    "CsmPortfolioLoad",
    "CsmPortfolioSummary",
    "CsmTaskLoad",
    "DeliverySource",
    "DigestFrequency",
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
    "MailKind",
    "MailStatus",
    "ModuleDelivery",
    "Notification",
    "NotificationKind",
    "NotificationPreference",
    "OutboundEmail",
    "OutboundEmailArchive",
    "OutboundEmailRecord",
    "OutboundStatus",
    "OutgoingMail",
    "PlaybookRun",
    "RetentionDaySums",
    "StopReason",
    "Survey",
    "SurveyKind",
    "SurveyRecipients",
    "SurveyResponse",
    "Task",
    "TaskStatus",
    "Touchpoint",
    "TouchpointKind",
    "TouchpointSurveyRule",
]
