"""Imports every table so that SQLModel.metadata is complete (Alembic, tests)."""

from tepsa.assignment.models import Assignment, Deadline, EnrolmentToken, Worker
from tepsa.audit.models import AuditEvent, LoginFailure
from tepsa.auth.models import AppSecret, User
from tepsa.geo.models import Region, Unit, UnitArea
from tepsa.conversation.models import Conversation, VoiceCall
from tepsa.intake.models import Attachment, InboundMessage, Intake, ProviderEvent, TimelineEvent
from tepsa.notify.models import Outbox
from tepsa.privacy.models import BlockedNumber, ErasureRequest

__all__ = [
    "AppSecret", "Assignment", "BlockedNumber", "ErasureRequest", "AuditEvent", "LoginFailure", "Deadline", "EnrolmentToken", "Attachment", "Conversation", "InboundMessage", "Intake", "Outbox",
    "ProviderEvent", "Region", "TimelineEvent", "Unit", "UnitArea", "User", "VoiceCall", "Worker",
]
