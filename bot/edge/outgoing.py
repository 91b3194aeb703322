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

from bot.storage import DocumentStore

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


def is_provisional(activity_id: str | None) -> bool:
    return bool(activity_id) and activity_id.startswith(PROVISIONAL)


class CardIds:
    """provisional id -> real activity id. One document per turn, named by the turn's prefix,
    written once; a later turn finds it from the provisional id alone."""

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    @staticmethod
    def _key(conversation_id: str, provisional: str) -> str:
        return f"{CARD_IDS_PREFIX}{conversation_id}/{provisional.rsplit('-', 1)[0]}"

    async def remember(self, conversation_id: str, mapping: dict[str, str]) -> None:
        if mapping:
            await self.documents.write(self._key(conversation_id, next(iter(mapping))), {"ids": mapping}, "*")

    async def resolve(self, conversation_id: str, activity_id: str) -> str | None:
        if not is_provisional(activity_id):
            return activity_id
        key = self._key(conversation_id, activity_id)
        found = await self.documents.read([key])
        return found[key][0]["ids"].get(activity_id) if found else None
