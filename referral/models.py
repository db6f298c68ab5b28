"""Every table model, imported once so SQLModel.metadata (and Alembic) knows them all."""

from referral.audit.models import AuditEvent
from referral.auth.models import ApiToken, LoginThrottle, SetupToken, User, UserSession
from referral.casework.models import (
    Case,
    Draft,
    Gap,
    GapReason,
    Referral,
    ReferralEvent,
    Screening,
    ScreeningForm,
)
from referral.clocks.models import ChildNotice
from referral.directory.models import DirectoryVersion, Service, State
from referral.mail.models import OutboxMessage
from referral.stats.models import PrivacyRelease
from referral.supervision.models import SUPERVISION_INDEXES  # noqa: F401  (indexes, 0004)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Case",
    "ChildNotice",
    "DirectoryVersion",
    "Draft",
    "Gap",
    "GapReason",
    "LoginThrottle",
    "OutboxMessage",
    "PrivacyRelease",
    "Referral",
    "ReferralEvent",
    "Screening",
    "ScreeningForm",
    "Service",
    "SetupToken",
    "State",
    "User",
    "UserSession",
]
