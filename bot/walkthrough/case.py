"""A recovery case: one admin recovering one user's mailbox. Plain data, kept apart from the
Bot Framework dialog stack so that a deployment that changes the dialogs never loses a case.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.storage.keys import owner_scope

CASE_SCHEMA_VERSION = 6
# Case numbers are read over the phone: no 0/O, 1/I/L.
CASE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Eight characters (31^8, about 8.5e11), each number reserved for good when its case is first
# saved (bot.walkthrough.case_store), so no two cases share one. Cases made before schema v5 have
# six, unique per admin only; they stay readable, and their documents are told apart by owner.
CASE_ID_LENGTH = 8
LEGACY_CASE_ID_LENGTH = 6
# A case number in text or button data, either length: the one pattern every parser uses.
CASE_ID_PATTERN = f"MR-(?:[{CASE_ALPHABET}]{{{CASE_ID_LENGTH}}}|[{CASE_ALPHABET}]{{{LEGACY_CASE_ID_LENGTH}}})"

OPEN = "open"
COMPLETE = "complete"
NEEDS_SUPPORT = "needs_support"
ESCALATED = "escalated"
CLOSED = "closed"  # abandoned by "start over"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_case_id() -> str:
    return "MR-" + "".join(secrets.choice(CASE_ALPHABET) for _ in range(CASE_ID_LENGTH))


@dataclass
class StepRecord:
    status: str  # done | skipped | failed (moved past by its failure path) | stuck (failed, no path)
    at: str
    failures: int = 0
    error: str = ""  # the error text the admin pasted when it failed (redacted)


@dataclass
class RecoveryCase:
    id: str
    owner_id: str
    owner_name: str = ""
    tenant_id: str = ""
    upn: str | None = None
    answers: dict[str, str] = field(default_factory=dict)  # scoping and sub-questions
    answered_by: dict[str, str] = field(default_factory=dict)  # question id -> "admin" | "graph"
    values: dict[str, str] = field(default_factory=dict)  # placeholder values, validated
    steps: dict[str, StepRecord] = field(default_factory=dict)
    confirmed: list[str] = field(default_factory=list)  # destructive steps whose values were recorded
    dialect: str = "modern"
    status: str = OPEN
    end_reason: str = ""
    leaf_id: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    ticket_id: str | None = None  # its ticket's key in bot.support.tickets: the case's ref (the number alone before v5)
    graph: dict[str, Any] | None = None  # what Microsoft Graph found, and when (or why it could not)
    live_card: str | None = None  # the one card of this case that still has buttons, the last one posted
    live_card_shows: dict[str, str] = field(default_factory=dict)  # what it shows: {"kind", "question" | "step"}
    pending_failure: dict[str, str] | None = None  # {"step", "error"}: 'It failed' pressed, no choice made yet
    # Deadlines and reminders (bot.walkthrough.deadlines, bot.reminders):
    deadline_starts: dict[str, str] = field(default_factory=dict)  # kind -> when its 30-day clock started (ISO)
    deadline_asked: list[str] = field(default_factory=list)  # kinds asked about (answered or "I don't know")
    reminders: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> {"key", "due", "guard"}
    reminded_steps: list[str] = field(default_factory=list)  # wait steps whose reminder was scheduled
    plan_card_id: str = ""  # the plan card in the chat: a deadline given later is added to it
    step_shown: dict[str, str] = field(default_factory=dict)  # step id -> when its card was first shown (ISO)
    replan: list[str] | None = None  # an answer was changed: the plan's step titles before, to say what changed
    time_zone: str = ""  # the admin's IANA time zone, as Teams last sent it ("" : times in UTC)
    resolved: list[str] = field(default_factory=list)  # 30-day clocks a done step took away (no warning left)
    # Diagnostics (bot.diagnostics, issue 22): what the admin's pasted diagnostics said, per place
    # (plain JSON, see bot/diagnostics/reading.py), where each value came from, and the situation
    # (a leaf reached by what the evidence shows rather than by the three answers).
    evidence: dict[str, Any] = field(default_factory=dict)
    value_sources: dict[str, str] = field(default_factory=dict)  # placeholder -> when its diagnostic was read (ISO)
    situation: str | None = None
    scoping: str = ""  # "" not chosen yet | "diagnostic" | "questions" (the admin answers them)
    schema_version: int = CASE_SCHEMA_VERSION

    def touch(self) -> None:
        self.updated_at = now_iso()

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def ref(self) -> str:
        """The case in per-case keys (transcripts, reminders, its ticket): '<tenant>/<owner>/<case id>',
        so that two cases with one number never share a document."""
        return f"{owner_scope(self.tenant_id, self.owner_id)}/{self.id}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecoveryCase:
        data = migrate_case(dict(data))
        known = set(cls.__dataclass_fields__)
        data = {k: v for k, v in data.items() if k in known}
        data["steps"] = {k: StepRecord(**v) for k, v in data.get("steps", {}).items()}
        return cls(**data)


def migrate_case(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored case up to CASE_SCHEMA_VERSION; older versions are kept readable forever."""
    version = data.get("schema_version", 1)
    if version < 2:
        # v1 kept scoping and sub-answers apart and had no answered_by.
        data["answers"] = {**data.get("answers", {}), **data.pop("sub_answers", {})}
        data.setdefault("answered_by", {k: "admin" for k in data["answers"]})
        data["schema_version"] = 2
    if version < 3:
        # v2 kept a copy of the ticket on the case; the ticket document is the one record now.
        ticket = data.pop("ticket", None)
        data["ticket_id"] = ticket.get("number") if isinstance(ticket, dict) else None
        data["schema_version"] = 3
    if version < 4:
        # v3 kept no deadlines and no reminders; the waits already behind a case get no reminder.
        steps = data.get("steps", {})
        data["reminded_steps"] = [step_id for step_id, record in steps.items() if record.get("status") == "done"]
        data["schema_version"] = 4
    if version < 5:
        # v4 keyed transcripts, reminders and tickets by the case number alone. Nothing on the case
        # moves: its ticket_id (a number) still names its ticket as it was stored, its reminders
        # keep their keys, and its transcript is read from both places (bot.support.transcript);
        # what it writes from now on goes under its ref.
        data["schema_version"] = 5
    if version < 6:
        # v5 had no diagnostics: the evidence fields, keyed on the fields themselves.
        migrate_diagnostics(data)
        data["schema_version"] = 6
    return data


def migrate_diagnostics(data: dict[str, Any]) -> None:
    """Cases from before the diagnostics (v4 and older) have no evidence: they answered the
    questions, so they keep doing so. Keyed on the fields, not on the version number, so that
    it composes with any other migration in either order."""
    if "evidence" not in data:
        data["evidence"] = {}
        data["value_sources"] = {}
        data["situation"] = None
        data["scoping"] = "questions" if data.get("answers") else ""


MAX_OPEN_CASES = 20  # an admin with more open cases finishes or closes one before starting another
FINISHED_KEPT = 5  # finished cases in the index (the `cases` card shows 5); older ones: bot.walkthrough.case_store


class TooManyOpenCases(Exception):
    """The admin already has MAX_OPEN_CASES open cases."""


@dataclass
class CaseSummary:
    """A case as the admin's case list shows it: enough to list and pick, not to work on."""

    id: str
    upn: str | None
    status: str
    updated_at: str
    created_at: str
    deadline: str = ""  # the nearest 30-day deadline (ISO), "" when none is known

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @classmethod
    def of(cls, case: RecoveryCase) -> CaseSummary:
        from .deadlines import nearest  # deadlines reads cases: imported here, not at the top

        found = nearest(case)
        return cls(case.id, case.upn, case.status, case.updated_at, case.created_at, found.ends.isoformat() if found else "")


@dataclass
class CaseBook:
    """One admin's cases: a small index of all of them, and the cases this turn works on, loaded.
    A turn reads the index and the cases it needs (bot.walkthrough.case_store), never the whole history, so
    its cost does not grow with the number of cases."""

    cases: dict[str, RecoveryCase] = field(default_factory=dict)  # loaded: the current case and any named
    current_id: str | None = None
    index: dict[str, CaseSummary] = field(default_factory=dict)
    closed_seq: int = 0  # how many finished cases have left the index for the closed list (bot.walkthrough.case_store)

    @property
    def current(self) -> RecoveryCase | None:
        return self.cases.get(self.current_id) if self.current_id else None

    def summaries(self) -> list[CaseSummary]:
        """Every case in the index, the loaded ones as they are now."""
        merged = {**self.index, **{cid: CaseSummary.of(c) for cid, c in self.cases.items()}}
        return sorted(merged.values(), key=lambda c: c.updated_at, reverse=True)

    def open_cases(self) -> list[CaseSummary]:
        return [c for c in self.summaries() if c.is_open]

    def listed(self) -> list[CaseSummary]:
        """The cases an admin is shown: a case left empty by 'start' after 'start over' is not one
        (it still counts towards the open-case limit)."""
        return [c for c in self.summaries() if c.upn or not c.is_open]

    def recent(self) -> list[CaseSummary]:
        return self.summaries()

    def start(self, owner_id: str, owner_name: str, tenant_id: str, dialect: str = "modern") -> RecoveryCase:
        if len(self.open_cases()) >= MAX_OPEN_CASES:
            raise TooManyOpenCases(MAX_OPEN_CASES)
        case_id = new_case_id()
        while case_id in self.index or case_id in self.cases:
            case_id = new_case_id()
        case = RecoveryCase(case_id, owner_id, owner_name, tenant_id, dialect=dialect)
        self.cases[case.id] = case
        self.current_id = case.id
        return case

    def ref(self, case_id: str, tenant_id: str, owner_id: str) -> str:
        """A case's ref (RecoveryCase.ref): the loaded case's own, else made for this owner."""
        case = self.cases.get(case_id)
        return case.ref if case else f"{owner_scope(tenant_id, owner_id)}/{case_id}"

    def purge_older_than(self, cutoff_iso: str) -> list[str]:
        """Drop cases last touched before cutoff; returns their ids (for their documents and transcripts)."""
        gone = [c.id for c in self.summaries() if c.updated_at < cutoff_iso]
        for cid in gone:
            self.cases.pop(cid, None)
            self.index.pop(cid, None)
        if self.current_id in gone:
            self.current_id = None
        return gone

    def index_dict(self) -> dict[str, Any]:
        """The index as stored: every open case, the FINISHED_KEPT most recent finished ones."""
        summaries = self.summaries()
        finished = [c for c in summaries if not c.is_open][:FINISHED_KEPT]
        kept = [c for c in summaries if c.is_open] + finished
        document = {
            "schema_version": CASE_SCHEMA_VERSION,
            "current_id": self.current_id,
            "cases": {c.id: asdict(c) for c in sorted(kept, key=lambda c: c.id)},
        }
        if self.closed_seq:
            document["closed_seq"] = self.closed_seq
        return document

    @classmethod
    def from_index(cls, data: dict[str, Any]) -> CaseBook:
        index = {cid: CaseSummary(**summary) for cid, summary in data.get("cases", {}).items()}
        current = data.get("current_id")
        return cls({}, current if current in index else None, index, int(data.get("closed_seq", 0)))

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> CaseBook:
        """A whole case book as schema v1-v3 kept it in one document (every case loaded)."""
        if not data:
            return cls()
        cases = {cid: RecoveryCase.from_dict(c) for cid, c in data.get("cases", {}).items()}
        current = data.get("current_id")
        return cls(cases, current if current in cases else None, {cid: CaseSummary.of(c) for cid, c in cases.items()})


_CASE_ID = re.compile(f"^{CASE_ID_PATTERN}$")
_CASE_REF = re.compile(f"^(?:[A-Za-z0-9_%-]+|~)/(?:[A-Za-z0-9_%-]+|~)/{CASE_ID_PATTERN}$")


def is_case_id(value: str) -> bool:
    """A well-formed case number: MR- and eight (six before v5) characters of the case alphabet."""
    return isinstance(value, str) and bool(_CASE_ID.match(value))


def is_legacy_case_id(value: str) -> bool:
    """A case number given before v5 (six characters): unique per admin only."""
    return is_case_id(value) and len(value) == 3 + LEGACY_CASE_ID_LENGTH


def is_case_ref(value: str) -> bool:
    """A well-formed case ref ('<tenant>/<owner>/<case id>'), or a ticket's key before v5 (the
    number alone): what a support card's buttons carry."""
    return isinstance(value, str) and bool(_CASE_REF.match(value) or _CASE_ID.match(value))
