"""Imports every table so that SQLModel.metadata is complete (Alembic, tests)."""

from tepsa.assignment.models import Assignment, Worker
from tepsa.auth.models import AppSecret, User
from tepsa.geo.models import Region, Unit, UnitArea
from tepsa.intake.models import InboundMessage, Intake, TimelineEvent
from tepsa.notify.models import Outbox

__all__ = [
    "AppSecret", "Assignment", "InboundMessage", "Intake", "Outbox", "Region",
    "TimelineEvent", "Unit", "UnitArea", "User", "Worker",
]
