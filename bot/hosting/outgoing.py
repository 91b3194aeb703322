"""Outgoing activities held back until the turn's state is saved.

A turn whose state write loses an e_tag race (two instances, two clicks) is re-run on fresh
state; nothing it would have said may reach the admin first. So sends and card updates go into
a buffer during the turn and leave only after the save succeeded (the SDK's 42.scaleout idea).
A buffered send gets a provisional id; after the flush the real ids are kept in a small
document per turn so that a card can still be updated in place on a later turn.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from bot.storage import DocumentStore
from bot.storage.ledger import TAKEOVER_SECONDS

PROVISIONAL = "pending-"
CARD_IDS_PREFIX = "cardids/"


@dataclass
class OutgoingBuffer:
    operations: list[tuple[str, Any, str | None]] = field(default_factory=list)  # (kind, activity, provisional id)
    flushing: bool = False
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _prefix: str = field(default_factory=lambda: f"{PROVISIONAL}{uuid.uuid4().hex[:12]}-")

    def add_send(self, activity: Any) -> str:
        provisional = f"{self._prefix}{next(self._ids)}"
        self.operations.append(("send", activity, provisional))
        return provisional

    def add_update(self, activity: Any) -> None:
        self.operations.append(("update", activity, None))

    @property
    def sent(self) -> list[Any]:
        return [activity for kind, activity, _ in self.operations if kind == "send"]


_PROVISIONAL_ID = re.compile(rf"{PROVISIONAL}[0-9a-f]{{12}}-[0-9]{{1,6}}")


def is_provisional(activity_id: str | None) -> TypeGuard[str]:
    """One of our own provisional ids, exactly as OutgoingBuffer makes them (never a sender's text)."""
    return activity_id is not None and _PROVISIONAL_ID.fullmatch(activity_id) is not None


# What a later turn learns of a card it cannot find a real id for.
NEVER_SENT = "never sent"  # its turn saved the state and died before sending anything
SENDING = "sending"  # its turn is sending right now (another instance): leave it to that turn
LOST = "lost"  # its turn began sending and never wrote the ids: it may or may not have arrived


class CardIds:
    """provisional id -> real activity id. One document per turn, named by the turn's prefix:
    created empty before the turn's first card is sent and filled after, so that a later turn
    can tell a card that was never sent from one still being sent or whose ids were lost."""

    STALE_SECONDS = TAKEOVER_SECONDS  # a flush not finished by then died with its turn

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    @staticmethod
    def _key(conversation_id: str, provisional: str) -> str:
        return f"{CARD_IDS_PREFIX}{conversation_id}/{provisional.rsplit('-', 1)[0]}"

    async def begin(self, conversation_id: str, provisional: str) -> None:
        """Before the turn whose ids start like `provisional` sends its first card."""
        await self.documents.write(self._key(conversation_id, provisional), {"ids": {}, "at": time.time()}, "*")

    async def remember(self, conversation_id: str, mapping: dict[str, str]) -> None:
        """After the turn's sends: its own ids (one prefix), written over its empty document."""
        if mapping:
            key = self._key(conversation_id, next(iter(mapping)))
            await self.documents.write(key, {"ids": mapping, "at": time.time()}, "*")

    async def adopt(self, conversation_id: str, provisional: str, real_id: str) -> None:
        """A card of an earlier turn, sent late by this one: added to that turn's document."""
        key = self._key(conversation_id, provisional)
        found = await self.documents.read([key])
        document, e_tag = found.get(key, ({"ids": {}}, None))
        document = {"ids": {**document.get("ids", {}), provisional: real_id}, "at": time.time()}
        await self.documents.write(key, document, e_tag)

    async def resolve(self, conversation_id: str, activity_id: str) -> tuple[str | None, str]:
        """The card's real id, or None and why (NEVER_SENT, SENDING or LOST)."""
        if not is_provisional(activity_id):
            return activity_id, ""
        key = self._key(conversation_id, activity_id)
        found = await self.documents.read([key])
        if not found:
            return None, NEVER_SENT  # (or purged with the retention: sending it again is right too)
        document = found[key][0]
        real = document.get("ids", {}).get(activity_id)
        if real:
            return real, ""
        fresh = time.time() - float(document.get("at") or 0) < self.STALE_SECONDS
        return None, SENDING if fresh and not document.get("ids") else LOST
