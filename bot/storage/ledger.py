"""Each incoming activity is processed once.

Teams re-sends an activity (same id) when the bot is slow, and a double click may arrive twice.
A record of (conversation, activity id) is inserted if absent before the turn runs and marked
done after its state is saved and its replies sent. A later arrival of a done activity is
ignored; one that arrives while another instance is still on it is told to retry (HTTP 503),
so the sender keeps it until it is really processed; and if the first attempt's process died
mid-turn (its record stayed "started" past the takeover time) the turn is run again. An activity
is never marked processed without having been. Records are kept a day.
"""

from __future__ import annotations

import time

from bot.storage import Conflict, DocumentStore

PREFIX = "activities/"
PROCESS = "process"  # first arrival, or taking over from a process that died mid-turn
DONE = "done"  # processed already: ignore
BUSY = "busy"  # being processed right now elsewhere: the sender should retry shortly
TAKEOVER_SECONDS = 10.0  # a turn not finished by then died


class ActivityLedger:
    def __init__(self, documents: DocumentStore, takeover_seconds: float = TAKEOVER_SECONDS) -> None:
        self.documents = documents
        self.takeover_seconds = takeover_seconds

    @staticmethod
    def key(conversation_id: str, activity_id: str) -> str:
        return f"{PREFIX}{conversation_id}/{activity_id}"

    async def claim(self, conversation_id: str, activity_id: str) -> str:
        """PROCESS, DONE or BUSY for this arrival of the activity."""
        key = self.key(conversation_id, activity_id)
        now = time.time()
        if await self.documents.insert_if_absent(key, {"at": now, "done": False}):
            return PROCESS
        found = await self.documents.read([key])
        if not found:
            return BUSY
        record, e_tag = found[key]
        if record.get("done"):
            return DONE
        if now - record.get("at", now) < self.takeover_seconds:
            return BUSY
        try:  # the first attempt died mid-turn: take it over, once
            await self.documents.write(key, {"at": now, "done": False, "taken_over": True}, e_tag)
        except Conflict:
            return BUSY
        return PROCESS

    async def done(self, conversation_id: str, activity_id: str) -> None:
        await self.documents.write(self.key(conversation_id, activity_id), {"at": time.time(), "done": True}, "*")
