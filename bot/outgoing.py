"""Outgoing activities held back until the turn's state is saved.

A turn whose state write loses an e_tag race (two instances, two clicks) is re-run on fresh
state; nothing it would have said may reach the admin first. So sends and card updates go into
a buffer during the turn and leave only after the save succeeded (the SDK's 42.scaleout idea).
A buffered send gets a provisional id; after the flush the real ids are kept in a small
document per conversation so that a card can still be updated in place on a later turn.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from .storage import DocumentStore

PROVISIONAL = "pending-"
CARD_IDS_PREFIX = "cardids/"
KEEP_CARD_IDS = 20


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


def is_provisional(activity_id: str | None) -> bool:
    return bool(activity_id) and activity_id.startswith(PROVISIONAL)


class CardIds:
    """provisional id -> real activity id, per conversation, the last few only."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    async def remember(self, conversation_id: str, mapping: dict[str, str]) -> None:
        if not mapping:
            return
        key = CARD_IDS_PREFIX + conversation_id
        found = await self.documents.read([key])
        ids = {**(found[key][0]["ids"] if key in found else {}), **mapping}
        # A cache of ids, not state: the last writer may win.
        await self.documents.write(key, {"ids": dict(list(ids.items())[-KEEP_CARD_IDS:])}, "*")

    async def resolve(self, conversation_id: str, activity_id: str) -> str | None:
        if not is_provisional(activity_id):
            return activity_id
        found = await self.documents.read([CARD_IDS_PREFIX + conversation_id])
        if not found:
            return None
        return found[CARD_IDS_PREFIX + conversation_id][0]["ids"].get(activity_id)
