"""What the dialogs need from the rest of the bot, in one frozen object built by app.py, and the
per-turn data they share (who is talking, their case book, what the turn said for the transcript).

The admin's CaseBook is read once per turn by the turn pipeline and kept in the turn state, so
dialogs and commands see and change the same object, and it is saved once at the end of the turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.clock import Clock, SystemClock
from bot.hosting.file_upload import TranscriptUploader
from bot.integrations.graph import EntraFinding
from bot.playbook import Playbook
from bot.reminders import ReminderDesk
from bot.support.escalation import EscalationDesk
from bot.support.transcript import TranscriptStore, TurnTranscript
from bot.turn.live_card import LiveCard
from bot.turn.turn_state import CASEBOOK_KEY, IDENTITY_KEY, TRANSCRIPT_KEY, Identity
from bot.walkthrough.case import CaseBook, RecoveryCase

__all__ = ["CASEBOOK_KEY", "IDENTITY_KEY", "TRANSCRIPT_KEY", "GraphLookup", "Identity", "NoCurrentCase", "Services"]


class NoCurrentCase(LookupError):
    """A dialog step that works on the current case ran without one (a bug, not an admin's mistake)."""


class GraphLookup(Protocol):
    """Microsoft Graph as the walkthrough uses it (bot.integrations.graph.GraphClient), when it is connected."""

    async def entra_state(self, upn: str) -> EntraFinding: ...


@dataclass(frozen=True)
class Services:
    playbook: Playbook
    transcripts: TranscriptStore
    escalation: EscalationDesk
    graph: GraphLookup | None = None  # None: no app registration for Graph; the admin answers every question
    reminders: ReminderDesk | None = None  # bot.reminders: None where reminders are not kept (unit tests)
    clock: Clock = field(default_factory=SystemClock)
    diagnostics: bool = False  # offer the read-only diagnostics after the UPN (issue 22)
    # Transcripts as files (Teams' file consent, personal chats): None where files are not offered
    # (the Agents Playground and the emulator cannot take them: one collapsed card instead).
    uploader: TranscriptUploader | None = None
    live: LiveCard = field(init=False)  # the one owner of each case's live card

    def __post_init__(self) -> None:
        object.__setattr__(self, "live", LiveCard(self.playbook))

    @staticmethod
    def casebook(context: Any) -> CaseBook:
        return context.turn_state[CASEBOOK_KEY]

    @staticmethod
    def identity(context: Any) -> Identity:
        return context.turn_state[IDENTITY_KEY]

    @staticmethod
    def transcript(context: Any) -> TurnTranscript:
        return context.turn_state[TRANSCRIPT_KEY]

    @property
    def wait_scale(self) -> float:
        """WAIT_SCALE: how long a replication wait lasts here (1 in production)."""
        return self.reminders.wait_scale if self.reminders is not None else 1.0

    def case(self, context: Any) -> RecoveryCase | None:
        """The admin's current case, or None before their first 'start'."""
        return self.casebook(context).current

    def current(self, context: Any) -> RecoveryCase:
        """The current case, where a step cannot run without one."""
        case = self.casebook(context).current
        if case is None:
            raise NoCurrentCase("no current case in this turn")
        return case
