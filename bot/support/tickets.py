"""Support tickets: one per case, created once whatever arrives twice, with who-did-what.

Plain Python over the document store. The ticket is claimed with an insert-if-absent before
anything is posted, so a re-delivered activity, a double click or a turn re-run after an e_tag
conflict never posts a second ticket; a second escalation of the case adds to the first one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bot.storage import Conflict, DocumentStore
from bot.walkthrough.case import now_iso

PREFIX = "tickets/"
PENDING_KEY = "tickets-pending/index"
QUOTA_PREFIX = "ticket-quota/"  # new tickets per admin per day
PENDING = "pending"  # claimed, not delivered yet
OPEN = "open"
ASSIGNED = "assigned"
RESOLVED = "resolved"


@dataclass
class Ticket:
    case_id: str
    created_by_activity: str
    summary: dict[str, Any]
    admin_reference: dict[str, Any]  # where to tell the admin what happens to the ticket
    admin_upn: str = ""
    status: str = PENDING
    assigned_to: str = ""
    thread_conversation_id: str = ""
    card_activity_id: str = ""
    service_url: str = ""
    delivery_attempts: int = 0
    delivering_since: float = 0.0  # lease of whoever is posting it now (epoch seconds)
    last_error: str = ""
    forms: dict[str, str] = field(default_factory=dict)  # escalation form id -> the activity that sent it
    handoff_state: str = ""  # what an agent hub last said (handoff.status)
    history: list[dict[str, str]] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)

    def record(self, who: str, what: str) -> None:
        self.history.append({"at": now_iso(), "who": who, "what": what})

    @property
    def delivered(self) -> bool:
        return bool(self.card_activity_id)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Ticket:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in document.items() if k in known})


class TicketStore:
    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    async def claim(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """(the case's ticket, True if this call created it)."""
        if await self.documents.insert_if_absent(PREFIX + ticket.case_id, asdict(ticket)):
            await self._pending(add=ticket.case_id)
            return ticket, True
        return await self.load(ticket.case_id), False

    async def load(self, case_id: str) -> Ticket | None:
        found = await self.documents.read([PREFIX + case_id])
        return Ticket.from_dict(found[PREFIX + case_id][0]) if found else None

    async def update(self, case_id: str, change) -> Ticket:
        """Apply change(ticket) and save, re-reading on a concurrent update (two supporters at once)."""
        for _ in range(5):
            found = await self.documents.read([PREFIX + case_id])
            document, e_tag = found[PREFIX + case_id]
            ticket = Ticket.from_dict(document)
            change(ticket)
            try:
                await self.documents.write(PREFIX + case_id, asdict(ticket), e_tag)
            except Conflict:
                continue
            if ticket.delivered:
                await self._pending(remove=case_id)
            return ticket
        raise Conflict(case_id)

    async def pending(self) -> list[str]:
        found = await self.documents.read([PENDING_KEY])
        return list(found[PENDING_KEY][0]["case_ids"]) if found else []

    async def take_quota(self, owner: str, day: str, limit: int) -> bool:
        """Count one more new ticket for this owner today; False (nothing counted) past `limit`."""
        key = f"{QUOTA_PREFIX}{owner}/{day}"
        for _ in range(5):
            found = await self.documents.read([key])
            document, e_tag = found.get(key, ({"count": 0}, None))
            if document["count"] >= limit:
                return False
            try:
                await self.documents.write(key, {"count": document["count"] + 1}, e_tag)
                return True
            except Conflict:
                continue
        raise Conflict(key)

    async def forget_pending(self, case_id: str) -> None:
        """Take a ticket off the waiting list (its document is gone: purged by retention)."""
        await self._pending(remove=case_id)

    async def _pending(self, add: str | None = None, remove: str | None = None) -> None:
        for _ in range(5):
            found = await self.documents.read([PENDING_KEY])
            document, e_tag = found.get(PENDING_KEY, ({"case_ids": []}, None))
            ids = [i for i in document["case_ids"] if i != remove]
            if add and add not in ids:
                ids.append(add)
            if ids == document["case_ids"] and e_tag is not None:
                return
            try:
                await self.documents.write(PENDING_KEY, {"case_ids": ids}, e_tag)
                return
            except Conflict:
                continue
