"""Every key prefix the bot writes under, with what it holds and how long it is kept: the one list
housekeeping purges from (bot.storage.housekeeping), and that tests/test_storage_keys.py holds
the code to (a prefix written anywhere but not listed here fails it).

Per-case documents carry their owner: `<prefix><tenant>/<owner>/<case id>...` (`owner_scope`,
`case_ref`), so two cases with one number (two admins, two tenants) never share a document.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

DAY = 86_400.0

DEDUPE = "dedupe"  # the processed-activity records: a day (housekeeping's dedupe_seconds)
ONE_DAY = "day"  # counters of one day
RETENTION = "retention"  # RETENTION_DAYS after the last write (30 by default, the recycle bin's)
KEPT = "kept"  # never purged by age; `holds` says why that is safe


@dataclass(frozen=True)
class KeySpace:
    prefix: str
    holds: str
    keep: str
    grace_seconds: float = 0.0  # kept this much longer than `keep` says

    def cutoff(self, now: float, retention_days: float, dedupe_seconds: float = DAY) -> float | None:
        """Documents here last written before this epoch time are purged; None: never."""
        if self.keep == KEPT:
            return None
        age = {DEDUPE: dedupe_seconds, ONE_DAY: DAY, RETENTION: retention_days * DAY}[self.keep]
        return now - age - self.grace_seconds


ACTIVITIES = KeySpace("activities/", "one record per incoming activity: processed once (bot.storage.ledger)", DEDUPE)
STATE = KeySpace("state/", "Bot Framework conversation state: the dialog stack (bot.turn.bot_storage)", RETENTION)
# An admin's case index is rewritten at least hourly while they work, their current case every
# turn (bot.walkthrough.case_store): cases/ is kept two hours longer, so that no index still in
# use is purged before the case it lists.
CASES = KeySpace("cases/", "each admin's cases, their index and closed-case list", RETENTION, grace_seconds=2 * 3600.0)
CASE_NUMBERS = KeySpace(
    "case-numbers/", "one empty document per case number ever given: never given twice (nothing personal in it)", KEPT
)
TRANSCRIPTS = KeySpace("transcripts/", "case transcripts, one document per turn, redacted", RETENTION)
TRANSCRIPT_COUNTS = KeySpace("transcript-counts/", "how many turns each case transcript holds (its cap)", RETENTION)
TICKETS = KeySpace("tickets/", "support tickets, one per case", RETENTION)
TICKETS_PENDING = KeySpace(
    "tickets-pending/", "the list of tickets not delivered yet; ticket keys only, emptied as they go", KEPT
)
TICKET_QUOTA = KeySpace("ticket-quota/", "tickets and notes sent to support per admin per day", RETENTION)
BUDGET = KeySpace("budget/", "turns and bytes per admin per day (the storage budget)", ONE_DAY, grace_seconds=DAY)
REMINDERS = KeySpace("reminders/", "due reminders by hour, and the cursor of the oldest hour", RETENTION)
CARD_IDS = KeySpace("cardids/", "provisional card ids -> Teams activity ids (bot.hosting.outgoing)", RETENTION)
CONFIG = KeySpace("config/", "the support channel connected from Teams: one document, rewritten when moved", KEPT)
HEALTH = KeySpace("health/", "read by the readiness probe, never written", KEPT)

REGISTRY: tuple[KeySpace, ...] = (
    ACTIVITIES, STATE, CASES, CASE_NUMBERS, TRANSCRIPTS, TRANSCRIPT_COUNTS, TICKETS, TICKETS_PENDING, TICKET_QUOTA,
    BUDGET, REMINDERS, CARD_IDS, CONFIG, HEALTH,
)  # fmt: skip


def registered(key: str) -> KeySpace | None:
    """The key space a key belongs to, or None (a key no housekeeping knows about)."""
    return next((space for space in REGISTRY if key.startswith(space.prefix)), None)


_PLAIN = frozenset((string.ascii_letters + string.digits + "-_").encode())


def segment(value: str) -> str:
    """One key segment from a caller's value (a tenant or user id): every byte but letters, digits,
    '-' and '_' percent-encoded (so no '/', no '.'), '~' for an empty value; two different values
    never give the same segment."""
    if not value:
        return "~"
    return "".join(chr(b) if b in _PLAIN else f"%{b:02X}" for b in value.encode("utf-8", "surrogatepass"))


def owner_scope(tenant_id: str, owner_id: str) -> str:
    """An owner, in keys: '<tenant>/<user>'."""
    return f"{segment(tenant_id)}/{segment(owner_id)}"
