"""The reminders in the document store: write, read the due buckets, take a lease, delete."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from datetime import datetime

from bot.clock import Clock
from bot.reminders.model import CURSOR_KEY, DUE_PREFIX, LEASE_SECONDS, Reminder, bucket
from bot.storage import Conflict, DocumentStore
from bot.storage.lease import Lease


class ReminderStore:
    def __init__(self, documents: DocumentStore, clock: Clock | None = None) -> None:
        self.documents = documents
        self.lease = Lease(LEASE_SECONDS, clock) if clock else Lease(LEASE_SECONDS)

    async def put(self, reminder: Reminder) -> str:
        key = reminder.key
        await self.documents.write(key, asdict(reminder), "*")
        await self._lower_cursor(bucket(datetime.fromisoformat(reminder.due)))
        return key

    async def cancel(self, keys: list[str]) -> None:
        if keys:
            await self.documents.delete(keys)

    async def cursor(self) -> tuple[str | None, str | None]:
        found = await self.documents.read([CURSOR_KEY])
        if CURSOR_KEY not in found:
            return None, None
        document, e_tag = found[CURSOR_KEY]
        return document.get("bucket"), e_tag

    async def _lower_cursor(self, wanted: str) -> None:
        def lower(document):
            current = (document or {}).get("bucket")
            return None if current is not None and current <= wanted else {"bucket": wanted}

        await self.documents.update(CURSOR_KEY, lower)

    async def advance_cursor(self, past: str, to: str) -> None:
        """Move the cursor from `past` (emptied) to `to`, unless someone lowered it meanwhile."""
        current, e_tag = await self.cursor()
        if current != past:
            return
        with contextlib.suppress(Conflict):
            await self.documents.write(CURSOR_KEY, {"bucket": to}, e_tag)

    async def in_bucket(self, name: str) -> dict[str, Reminder]:
        found = await self.documents.read_prefix(f"{DUE_PREFIX}{name}/")
        return {key: Reminder.from_dict(document) for key, document in found.items()}

    async def take_lease(self, key: str, now: float | None = None) -> Reminder | None:
        """The reminder with this instance's lease on it, or None if another holds it or it is gone."""
        document = await self.lease.claim(self.documents, key, "leased_at", now)
        return Reminder.from_dict(document) if document is not None else None

    async def release(self, reminder: Reminder) -> None:
        reminder.leased_at = 0.0
        reminder.attempts += 1
        await self.documents.write(reminder.key, asdict(reminder), "*")
