"""Each incoming activity is processed once.

Teams re-sends an activity (same id) when the bot is slow, and a double click may arrive twice.
A record of (conversation, activity id) is inserted if absent before the turn runs and marked
done after its state is saved. A second arrival is ignored, unless the first attempt's process
died mid-turn (its record stayed "started" past the takeover time): then the turn is run again,
so an activity is never marked processed without having been. Records are kept a day.
"""

from __future__ import annotations

import time

from .storage import Conflict, DocumentStore

PREFIX = "activities/"


class ActivityLedger:
    def __init__(self, documents: DocumentStore, takeover_seconds: float = 10.0) -> None:
        self.documents = documents
        self.takeover_seconds = takeover_seconds

    @staticmethod
    def key(conversation_id: str, activity_id: str) -> str:
        return f"{PREFIX}{conversation_id}/{activity_id}"

    async def claim(self, conversation_id: str, activity_id: str) -> bool:
        """True when this caller should process the activity."""
        key = self.key(conversation_id, activity_id)
        now = time.time()
        if await self.documents.insert_if_absent(key, {"at": now, "done": False}):
            return True
        found = await self.documents.read([key])
        if not found:
            return False
        record, e_tag = found[key]
        if record.get("done") or now - record.get("at", now) < self.takeover_seconds:
            return False
        try:  # the first attempt died mid-turn: take it over, once
            await self.documents.write(key, {"at": now, "done": False, "taken_over": True}, e_tag)
        except Conflict:
            return False
        return True

    async def done(self, conversation_id: str, activity_id: str) -> None:
        await self.documents.write(self.key(conversation_id, activity_id), {"at": time.time(), "done": True}, "*")
