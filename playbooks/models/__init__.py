"""Models of the playbooks app, one module per sub-domain; each is imported here."""

from .catalogue import AccountAddOn, AddOnSource, AddOnStatus, ModuleKind, ServiceModule, TierEntitlement
from .journeys import DelayFrom, Journey, JourneyStep, JourneyStepKind, StepSurveyKind
from .playbooks import Playbook, PlaybookStep, StepKind, Trigger

__all__ = [
    "AccountAddOn",
    "AddOnSource",
    "AddOnStatus",
    "DelayFrom",
    "Journey",
    "JourneyStep",
    "JourneyStepKind",
    "ModuleKind",
    "Playbook",
    "PlaybookStep",
    "ServiceModule",
    "StepKind",
    "StepSurveyKind",
    "TierEntitlement",
    "Trigger",
]
