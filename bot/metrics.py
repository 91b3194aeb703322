"""A turn's outcome, as a value: the turn pipeline returns it, the turn error handler sets the
error outcome, the HTTP edge maps it to the status it answers and hands it to telemetry and the
log line. Per request; nothing here is global state, and nothing identifies anyone.

`count` is kept for plain code that counts without a turn in hand (the reminders): it is the
one telemetry object's counter (bot.integrations.telemetry), not a second counter system.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.integrations import telemetry

# Where the edge keeps the turn's outcome in the SDK's turn_state, so that the error handler,
# which the SDK calls with the same context, can set it.
OUTCOME_KEY = "mailbox_recovery.outcome"


@dataclass(frozen=True)
class TurnOutcome:
    """ok | duplicate | busy | error | a refusal (foreign-tenant, not-admin, rate-limited, not-admin-role)."""

    name: str = "ok"
    case_id: str = ""  # the case the turn worked on (a case number, not personal data)
    error: str = ""  # the exception's type, for an error (never its text)

    @property
    def failed(self) -> bool:
        return self.name == "error"


OK = TurnOutcome()
DUPLICATE = TurnOutcome("duplicate")
BUSY = TurnOutcome("busy")


def failed(error: BaseException) -> TurnOutcome:
    return TurnOutcome("error", error=type(error).__name__)


def refused(reason: str) -> TurnOutcome:
    return TurnOutcome(reason)


def count(name: str) -> None:
    telemetry.count(name)
