"""A reminder as stored, and where it is stored: one document per reminder, in the bucket of the hour it is due."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.storage.keys import REMINDERS

PREFIX = REMINDERS.prefix
DUE_PREFIX = f"{PREFIX}due/"
CURSOR_KEY = f"{PREFIX}cursor"
LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 10  # a reminder that fails this many rounds (not 403/404) is dropped with a log line
DEADLINE_WARNINGS = (7, 1)  # days before a deadline
IDLE_DAYS = 2
SNOOZE_MINUTES = 30

SENT, DROPPED, RETRY = "sent", "dropped", "retry"


def bucket(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H")


def key_for(due: datetime, reminder_id: str) -> str:
    return f"{DUE_PREFIX}{bucket(due)}/{reminder_id}"


@dataclass
class Reminder:
    id: str  # "<case ref>.<name>" ("<case id>.<name>" before v5): the ref keeps two cases with one number apart
    case_id: str
    owner: str  # the case's owner key (cases/<owner>/<case id>)
    kind: str  # wait | asked | deadline | idle | sla
    due: str  # ISO, UTC
    reference: dict[str, Any]  # the admin's conversation (serialised ConversationReference)
    upn: str = ""
    title: str = ""  # the step, or what the deadline is about
    detail: str = ""  # what to check, or the deadline line
    minutes: int = 0  # the wait as the playbook gives it (before WAIT_SCALE)
    guard: str = ""  # what must still hold when it is sent (the case's updated_at, a deadline)
    leased_at: float = 0.0  # when a sender took it (bot.storage.lease); 0: nobody holds it
    attempts: int = 0

    @property
    def name(self) -> str:
        """Its name on the case (case.reminders): wait, asked, idle, deadline-..., sla."""
        return self.id.rsplit(".", 1)[1]

    @property
    def key(self) -> str:
        return key_for(datetime.fromisoformat(self.due), self.id)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Reminder:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in document.items() if k in known})
