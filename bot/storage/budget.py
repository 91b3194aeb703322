"""A daily budget per admin: turns and bytes received, so that one admin (or a script with their
token) cannot fill the store every other admin needs. One document per admin per day,

    budget/<tenant>/<user>/<YYYY-MM-DD>   {"turns": n, "bytes": n}

charged with the store's `update` before the turn is processed (one read and one write a turn);
kept two days (bot.storage.keys.BUDGET). The bytes are what the admin sent (text and card data):
everything the bot keeps of a turn is bounded by what it was sent plus what it said."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock, SystemClock
from bot.storage.documents import DocumentStore
from bot.storage.keys import BUDGET

DAILY_TURNS = 1500  # DAILY_TURNS_PER_USER: a long day of recoveries is a few hundred
DAILY_BYTES = 2 * 1024 * 1024  # DAILY_BYTES_PER_USER: text and card data received
REFUSED = (
    "You have reached today's limit of messages to this bot ({what}), which keeps its storage safe for every "
    "admin. Nothing of this message was kept; you can continue tomorrow (UTC), and your cases are kept."
)


def size_of(text: str | None, value: Any) -> int:
    """The bytes an activity brings: its text and its card data, as UTF-8."""
    size = len((text or "").encode("utf-8", "surrogatepass"))
    if value is not None:
        size += len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))
    return size


@dataclass(frozen=True)
class DailyBudget:
    documents: DocumentStore
    turns: int = DAILY_TURNS
    bytes: int = DAILY_BYTES
    clock: Clock = field(default_factory=SystemClock)

    def key(self, scope: str) -> str:
        return f"{BUDGET.prefix}{scope}/{self.clock.now().strftime('%Y-%m-%d')}"

    async def charge(self, scope: str, size: int) -> str | None:
        """Count one turn of `size` bytes for this owner ('<tenant>/<user>') today; None when it
        fits, else what is spent ('turns' or 'bytes'; nothing is counted then)."""
        over: list[str] = []

        def change(document):
            over.clear()
            spent = document or {"turns": 0, "bytes": 0}
            if spent.get("turns", 0) >= self.turns:
                over.append("turns")
            elif spent.get("bytes", 0) + size > self.bytes:
                over.append("bytes")
            if over:
                return None
            return {"turns": spent.get("turns", 0) + 1, "bytes": spent.get("bytes", 0) + size}

        await self.documents.update(self.key(scope), change)
        return over[0] if over else None

    def refusal(self, what: str) -> str:
        limit = f"{self.turns:,} messages a day" if what == "turns" else f"{self.bytes // 1024:,} KB of text a day"
        return REFUSED.format(what=limit)
