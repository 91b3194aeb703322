"""The 30-day clocks a recovery runs against, and the date by which it must finish.

A soft-deleted Entra user is purged 30 days after its deletion (Graph's deletedDateTime, or the
date the admin gives), a soft-deleted mailbox 30 days after its WhenSoftDeleted, and a mailbox
whose license was removed is removed 30 days after the removal. An inactive mailbox (on hold when it
was deleted) has no such clock: it is kept as long as the hold lasts. Plain functions of the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.playbook import InvalidValue, Playbook
from bot.walkthrough.case import CaseSummary, RecoveryCase

PURGE_DAYS = 30
INACTIVE_NOTE = "The soft-deleted mailbox is inactive: kept while the hold lasts."


def mailbox_inactive(case: RecoveryCase) -> bool:
    """The admin answered that IsInactiveMailbox is True: no 30-day clock for the mailbox."""
    return case.answers.get("inactive") == "true"


@dataclass(frozen=True)
class DeadlineKind:
    id: str
    what: str  # what happens when the clock runs out
    ask: str  # the question, when the bot cannot know the start
    hint: str  # where the admin reads the answer
    input_kind: str  # "date" (a date picker) or "text" (a pasted property)


KINDS = {
    "entra_user": DeadlineKind(
        "entra_user",
        "the deleted Entra user is purged",
        "When was the user deleted in Entra ID?",
        "Entra admin center > Users > Deleted users shows the deletion date.",
        "date",
    ),
    "mailbox": DeadlineKind(
        "mailbox",
        "the soft-deleted mailbox is purged",
        "When was the mailbox soft-deleted? Paste its WhenSoftDeleted property.",
        "Get-Mailbox -SoftDeletedMailbox -Identity {upn} | Select-Object WhenSoftDeleted",
        "text",
    ),
    "license": DeadlineKind(
        "license",
        "the mailbox of the unlicensed user is removed",
        "When was the user's Exchange Online license removed (if it was)?",
        "Microsoft 365 admin center > Users > the user > Licenses and apps, or the audit log.",
        "date",
    ),
}


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    starts: datetime
    source: str  # "graph" | "admin"

    @property
    def ends(self) -> datetime:
        return self.starts + timedelta(days=PURGE_DAYS)


def applicable(case: RecoveryCase, playbook: Playbook) -> list[DeadlineKind]:
    """The 30-day clocks this case's scenario runs against."""
    kinds = []
    if case.answers.get("entra") == "soft_deleted":
        kinds.append(KINDS["entra_user"])
    if case.answers.get("mailbox") == "soft_deleted" and not mailbox_inactive(case):
        kinds.append(KINDS["mailbox"])
    leaf = playbook.leaves.get(case.leaf_id or "")
    if leaf is not None and case.answers.get("entra") == "present" and leaf.step("check_license") is not None:
        kinds.append(KINDS["license"])
    return kinds


def graph_deleted_at(case: RecoveryCase) -> datetime | None:
    entra = (case.graph or {}).get("entra") or {}
    if entra.get("state") != "soft_deleted" or not entra.get("deleted_at"):
        return None
    return _aware(datetime.fromisoformat(str(entra["deleted_at"]).replace("Z", "+00:00")))


def to_ask(case: RecoveryCase, playbook: Playbook) -> list[DeadlineKind]:
    """Clocks whose start the bot does not know and has not asked about yet (asked once)."""
    known = {d.kind.id for d in deadlines(case)}
    return [
        k
        for k in applicable(case, playbook)
        if k.id not in known and k.id not in case.deadline_asked and k.id not in case.resolved
    ]


CONNECT_STEP = "connect"  # the step that opens the Exchange Online window


def to_ask_now(case: RecoveryCase, playbook: Playbook) -> list[DeadlineKind]:
    """The clocks to ask about now, one at a time: a date the admin can look up anywhere before the
    plan; one that needs an Exchange Online command only once the step connecting to Exchange
    Online is done (or the leaf has none)."""
    leaf = playbook.leaves.get(case.leaf_id or "")
    connected = leaf is None or leaf.step(CONNECT_STEP) is None or CONNECT_STEP in case.steps
    return [k for k in to_ask(case, playbook) if k.input_kind == "date" or connected]


def record_start(case: RecoveryCase, kind: DeadlineKind, raw: str, unknown: bool, now: datetime) -> str:
    """Keep when the clock started (or that it is not known); what the answered card says. Raises
    InvalidValue with how to give it when the date cannot be read."""
    if unknown:
        answered = "Not known: this deadline is not counted. Finish within 30 days of the deletion to be safe."
    else:
        start = parse_when(raw, now)
        case.deadline_starts[kind.id] = start.isoformat()
        answered = f"Started {start:%Y-%m-%d}."
    if kind.id not in case.deadline_asked:
        case.deadline_asked.append(kind.id)
    case.touch()
    return answered


def deadlines(case: RecoveryCase) -> list[Deadline]:
    found = []
    deleted = graph_deleted_at(case) if case.answers.get("entra", "soft_deleted") == "soft_deleted" else None
    if deleted is not None:
        found.append(Deadline(KINDS["entra_user"], deleted, "graph"))
    for kind_id, start in case.deadline_starts.items():
        if kind_id == "mailbox" and mailbox_inactive(case):
            continue
        if kind_id in KINDS and not (kind_id == "entra_user" and deleted is not None):
            found.append(Deadline(KINDS[kind_id], _aware(datetime.fromisoformat(start)), "admin"))
    # A clock a done step took away (the user restored, the content safe) warns no more.
    return sorted((d for d in found if d.kind.id not in case.resolved), key=lambda d: d.ends)


def nearest(case: RecoveryCase) -> Deadline | None:
    found = deadlines(case)
    return found[0] if found else None


def day_month(moment: datetime) -> str:
    return f"{moment.day} {moment:%B}"


def days_left(deadline: Deadline, now: datetime) -> int:
    return (deadline.ends.date() - now.astimezone(UTC).date()).days


def finish_before(case: RecoveryCase, now: datetime) -> str:
    """'Finish before 12 December (17 days left): the deleted Entra user is purged.'; '' when no
    deadline is known."""
    deadline = nearest(case)
    if deadline is None:
        return INACTIVE_NOTE if mailbox_inactive(case) and case.answers.get("mailbox") == "soft_deleted" else ""
    left = days_left(deadline, now)
    if left < 0:
        return (
            f"The 30-day window closed on {day_month(deadline.ends)}: {deadline.kind.what} by now, or soon. "
            "Escalate to support if the data is still needed."
        )
    count = "today is the last day" if left == 0 else f"{left} day{'s' if left != 1 else ''} left"
    return f"Finish before {day_month(deadline.ends)} ({count}): after that {deadline.kind.what}."


def nearest_deadline(case: RecoveryCase) -> str:
    """'12 December 2026 (the deleted Entra user is purged)' for a ticket; '' when none is known."""
    deadline = nearest(case)
    return f"{deadline.ends:%Y-%m-%d} ({deadline.kind.what})" if deadline else ""


def by_deadline(cases: list[CaseSummary]) -> list[CaseSummary]:
    """Open cases by the nearest deadline (those without one after), then the finished ones."""
    open_cases = [c for c in cases if c.is_open]
    with_deadline = sorted((c for c in open_cases if c.deadline), key=lambda c: c.deadline)
    return with_deadline + [c for c in open_cases if not c.deadline] + [c for c in cases if not c.is_open]


_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$")
_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def parse_when(raw: str, now: datetime) -> datetime:
    """A date as the admin gives it: 2026-11-20, an ISO time, or WhenSoftDeleted as PowerShell
    prints it (11/20/2026 3:04:05 PM in en-US, 20.11.2026 15:04:05 in de-DE). Read as UTC."""
    value = " ".join((raw or "").split())
    if not value:
        raise InvalidValue("Give the date, for example 2026-11-20, or press 'I don't know'.")
    try:
        moment = _parse(value)
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidValue(
            f"'{value[:40]}' is not a date I can read. Use 2026-11-20, or paste WhenSoftDeleted as PowerShell shows it "
            "(11/20/2026 3:04:05 PM)."
        )
    if moment > now + timedelta(days=1):
        raise InvalidValue(f"{moment:%Y-%m-%d} is in the future; give the date it was deleted or removed.")
    return moment


def _parse(value: str) -> datetime | None:
    if re.match(r"^\d{4}-\d{2}-\d{2}", value):
        return _aware(datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1)))
    us = _US.match(value)
    if us:
        month, day, year, hour, minute, second, half = us.groups()
        hour_24 = int(hour or 0) % 12 + (12 if (half or "").lower() == "pm" else 0) if half else int(hour or 0)
        return datetime(int(year), int(month), int(day), hour_24, int(minute or 0), int(second or 0), tzinfo=UTC)
    dotted = _DOTTED.match(value)
    if dotted:
        day, month, year, hour, minute, second = dotted.groups()
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=UTC)
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
