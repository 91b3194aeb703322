"""A lease: who is doing something right now (posting a ticket, sending a reminder), kept as the
time it was taken in a field of the document it guards, and read on the injected clock.

Taken with the store's `update` (e_tag-guarded), so of several instances exactly one holds it; it
is held for `seconds` after it was taken, and then lapses, so a holder that died is taken over
by the next one who asks. Epoch seconds in the document; the clock is bot.clock's, so a test
moves time forward instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.documents import Document, DocumentStore


@dataclass(frozen=True)
class Lease:
    seconds: float
    clock: Clock = field(default_factory=SystemClock)

    def now(self) -> float:
        return self.clock.now().timestamp()

    def held(self, taken_at: float | None, now: float | None = None) -> bool:
        """Whether a lease taken at `taken_at` (0 or None: never taken, or released) still holds."""
        now = self.now() if now is None else now
        if not taken_at:
            return False
        return now - float(taken_at) < self.seconds

    def lapsed(self, taken_at: float | None, now: float | None = None) -> bool:
        """Taken once and not held any more: its holder died (or is far too slow); take it over."""
        return bool(taken_at) and not self.held(taken_at, now)

    def take(self, taken_at: float | None, now: float | None = None) -> float | None:
        """The time to record as taken when the lease is free (never taken, released or lapsed);
        None while someone holds it."""
        now = self.now() if now is None else now
        return None if self.held(taken_at, now) else now

    async def claim(
        self, documents: DocumentStore, key: str, field_name: str, now: float | None = None, **extra: Any
    ) -> Document | None:
        """Take the lease kept in `field_name` of the document at `key`: the document as written
        with this caller's time in it, or None when someone else holds it or the document is gone.
        `extra` fields are written with it (e.g. a takeover mark)."""
        now = self.now() if now is None else now
        taken: list[bool] = []

        def change(document: Document | None) -> Document | None:
            taken.clear()
            if document is None:
                return None
            at = self.take(document.get(field_name), now)
            if at is None:
                return None
            taken.append(True)
            return {**document, field_name: at, **extra}

        document = await documents.update(key, change)
        return document if taken else None
