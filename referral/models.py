"""Every table model, imported once so SQLModel.metadata (and Alembic) knows them all."""

from referral.audit.models import AuditEvent
from referral.auth.models import (
    ApiToken,
    LoginThrottle,
    ServiceAccount,
    SetupToken,
    User,
    UserSession,
)
from referral.casework.models import (
    Case,
    CaseEvent,
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
from referral.provider.models import (  # noqa: F401  (PROVIDER_INDEXES: indexes, 0011)
    PROVIDER_INDEXES,
    AnswerToken,
    ServiceEntryEdit,
)
from referral.stats.models import PrivacyRelease
from referral.supervision.models import SUPERVISION_INDEXES  # noqa: F401  (indexes, 0004)

__all__ = [
    "AnswerToken",
    "ApiToken",
    "AuditEvent",
    "Case",
    "CaseEvent",
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
    "ServiceAccount",
    "ServiceEntryEdit",
    "SetupToken",
    "State",
    "User",
    "UserSession",
]
