"""Support tickets: one per case, created once whatever arrives twice, with who-did-what.

Plain Python over the document store. The ticket is claimed with an insert-if-absent before
anything is posted, so a re-delivered activity, a double click or a turn re-run after an e_tag
conflict never posts a second ticket; a second escalation of the case adds to the first one.

    tickets/<tenant>/<owner>/<case id>   a case's ticket, under its case's ref (RecoveryCase.ref)
    tickets/<case id>                    a ticket made before v5, still read and acted on
    tickets-pending/index                the refs of tickets not delivered yet
    ticket-quota/<tenant>/<owner>/<day>  tickets and notes one admin sent to support that day

Every change is the store's `update` (re-read and re-applied when two supporters click at
once); who posts a ticket holds a Lease (bot.storage.lease) on it. A ticket's `forms` and
`history` are capped: the oldest forms are forgotten, the oldest history summarised in one line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.clock import Clock
from bot.storage import DocumentStore
from bot.storage.keys import TICKET_QUOTA, TICKETS, TICKETS_PENDING, owner_scope
from bot.storage.lease import Lease
from bot.walkthrough.case import now_iso

PREFIX = TICKETS.prefix
PENDING_KEY = TICKETS_PENDING.prefix + "index"
QUOTA_PREFIX = TICKET_QUOTA.prefix  # new tickets and notes per admin per day
PENDING = "pending"  # claimed, not delivered yet
OPEN = "open"
ASSIGNED = "assigned"
RESOLVED = "resolved"
DELIVERY_LEASE_SECONDS = 60.0
MAX_FORMS = 20  # escalation forms remembered per ticket (a replay of an older one is a new note, and counted)
MAX_HISTORY = 50  # who-did-what lines kept per ticket; the oldest are summarised in the first line
NOTES_PER_HOUR = 3  # notes one ticket takes into its thread in an hour ("escalated again")


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
    delivering_since: float = 0.0  # lease of whoever is posting it now (epoch seconds it was taken)
    last_error: str = ""
    forms: dict[str, str] = field(default_factory=dict)  # escalation form id -> the activity that sent it
    handoff_state: str = ""  # what an agent hub last said (handoff.status)
    history: list[dict[str, Any]] = field(default_factory=list)
    created_at: str = field(default_factory=now_iso)
    owner: str = ""  # '<tenant>/<owner>' of the case's admin; "" for a ticket made before v5
    notes_at: list[float] = field(default_factory=list)  # when notes went to its thread in the last hour

    @property
    def ref(self) -> str:
        """Its key in the store (and what its card's buttons carry): the case's ref, or the number alone before v5."""
        return f"{self.owner}/{self.case_id}" if self.owner else self.case_id

    def record(self, who: str, what: str) -> None:
        self.history.append({"at": now_iso(), "who": who, "what": what})
        if len(self.history) > MAX_HISTORY:
            folded = self.history[: len(self.history) - MAX_HISTORY + 1]
            counts: Counter[str] = Counter()
            for line in folded:
                for what_was, n in line.get("left_out", {line["what"]: 1}).items():
                    counts[what_was] += n
            total = sum(counts.values())
            said = ", ".join(f"{what_was} ({n}x)" for what_was, n in counts.most_common(5))
            summary = {"at": folded[0]["at"], "who": "bot", "what": f"{total} earlier entries left out: {said}"}
            self.history = [{**summary, "left_out": dict(counts)}, *self.history[len(folded) :]]

    def add_form(self, form_id: str, activity_id: str) -> None:
        self.forms[form_id] = activity_id
        for oldest in list(self.forms)[: max(0, len(self.forms) - MAX_FORMS)]:
            del self.forms[oldest]

    @property
    def delivered(self) -> bool:
        return bool(self.card_activity_id)

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Ticket:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in document.items() if k in known})


def quota_owner(tenant_id: str, owner_id: str) -> str:
    return owner_scope(tenant_id, owner_id)


class TicketStore:
    def __init__(self, documents: DocumentStore, clock: Clock | None = None) -> None:
        self.documents = documents
        self.lease = Lease(DELIVERY_LEASE_SECONDS, clock) if clock else Lease(DELIVERY_LEASE_SECONDS)

    async def claim(self, ticket: Ticket) -> tuple[Ticket, bool]:
        """(the case's ticket, True if this call created it)."""
        if await self.documents.insert_if_absent(PREFIX + ticket.ref, asdict(ticket)):
            await self._pending(add=ticket.ref)
            return ticket, True
        existing = await self.load(ticket.ref)
        if existing is None:  # purged between the two calls: claim it afresh
            return await self.claim(ticket)
        return existing, False

    async def load(self, ref: str) -> Ticket | None:
        found = await self.documents.read([PREFIX + ref])
        return Ticket.from_dict(found[PREFIX + ref][0]) if found else None

    async def update(self, ref: str, change) -> Ticket:
        """Apply change(ticket) and save (change returns False to save nothing); re-applied on a
        fresh read when someone else changed the ticket meanwhile (two supporters at once)."""
        result: list[Ticket] = []

        def apply(document):
            if document is None:
                raise KeyError(ref)
            ticket = Ticket.from_dict(document)
            result[:] = [ticket]
            return None if change(ticket) is False else asdict(ticket)

        await self.documents.update(PREFIX + ref, apply)
        ticket = result[0]
        if ticket.delivered:
            await self._pending(remove=ref)
        return ticket

    async def take_delivery(self, ref: str) -> tuple[Ticket, bool]:
        """(the ticket, True if this caller now holds the lease to post it). Not taken when it is
        posted already or another deliverer holds the lease; a lapsed lease is taken over."""
        taken: list[bool] = []

        def take(ticket: Ticket) -> bool:
            taken.clear()
            at = None if ticket.delivered else self.lease.take(ticket.delivering_since)
            if at is None:
                return False
            ticket.delivering_since = at
            taken.append(True)
            return True

        ticket = await self.update(ref, take)
        return ticket, bool(taken)

    async def take_note_slot(self, ref: str, per_hour: int = NOTES_PER_HOUR) -> bool:
        """Count one more note into the ticket's thread; False (nothing counted) past `per_hour` an hour."""
        now = self.lease.now()
        taken: list[bool] = []

        def take(ticket: Ticket) -> bool:
            taken.clear()
            recent = [at for at in ticket.notes_at if now - at < 3600.0]
            if len(recent) >= per_hour:
                return False
            ticket.notes_at = [*recent, now]
            taken.append(True)
            return True

        await self.update(ref, take)
        return bool(taken)

    async def pending(self) -> list[str]:
        found = await self.documents.read([PENDING_KEY])
        return list(found[PENDING_KEY][0]["case_ids"]) if found else []

    async def take_quota(self, owner: str, day: str, limit: int) -> bool:
        """Count one more ticket or note for this owner today; False (nothing counted) past `limit`."""
        counted: list[bool] = []

        def count(document):
            counted.clear()
            done = (document or {}).get("count", 0)
            if done >= limit:
                return None
            counted.append(True)
            return {"count": done + 1}

        await self.documents.update(f"{QUOTA_PREFIX}{owner}/{day}", count)
        return bool(counted)

    async def forget_pending(self, ref: str) -> None:
        """Take a ticket off the waiting list (its document is gone: purged by retention)."""
        await self._pending(remove=ref)

    async def _pending(self, add: str | None = None, remove: str | None = None) -> None:
        def change(document):
            listed = (document or {}).get("case_ids", [])
            ids = [i for i in listed if i != remove]
            if add and add not in ids:
                ids.append(add)
            if ids == listed and document is not None:
                return None
            return {"case_ids": ids}

        await self.documents.update(PENDING_KEY, change)
