"""Escalation, in one place: the form, the ticket support receives, and what the admin is told.

A case has at most one ticket (bot.support.tickets), claimed with an insert-if-absent before anything is
posted; whether an escalation is the first or a later one is what that claim says, never a field
on the case. Delivery to the support team goes through a `SupportChannel` (bot.teams.support_channel
posts to a Teams channel); without a connected channel the admin gets the summary and transcript
to forward (its compact ticket card here, the transcript as a file or one collapsed card: the
edge decides which, bot.turn.transcript_file), and the ticket waits for a channel to be
connected. Plain Python: the edge turns what `escalate` returns into activities.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.cards.base import Card
from bot.cards.support import (
    MAX_CONTACT,
    MAX_DESCRIPTION,
    added_to_ticket_card,
    collapsed_transcript_card,
    escalation_form,
    forward_ticket_card,
    sent_card,
)
from bot.diagnostics.reading import PLACE_NAMES
from bot.integrations import telemetry
from bot.playbook import OUTCOMES, Playbook
from bot.storage.keys import owner_scope
from bot.support.redaction import redact
from bot.support.tickets import ASSIGNED, NOTES_PER_HOUR, OPEN, PENDING, RESOLVED, Ticket, TicketStore
from bot.support.transcript import Entry, TranscriptStore
from bot.support.transcript_file import MAX_FILE_TRANSCRIPT, TranscriptFile, transcript_file
from bot.walkthrough.case import ESCALATED, RecoveryCase, now_iso
from bot.walkthrough.deadlines import nearest_deadline
from bot.walkthrough.rules import ticket_values

log = logging.getLogger(__name__)
TICKETS_PER_DAY = 20  # tickets and notes one admin may send support a day (each posts to the channel)
MAX_ERRORS = 10  # errors pasted, in a ticket
MAX_ERROR_CHARS = 1000  # of each


@dataclass(frozen=True)
class ChannelAddress:
    """Where the support team's channel is: enough to post a new thread there."""

    channel_id: str
    service_url: str
    tenant_id: str
    team_name: str = ""


class SupportChannel(Protocol):
    """Where tickets go. bot.teams.support_channel.TeamsSupportChannel posts to a Teams channel."""

    async def address(self) -> ChannelAddress | None: ...

    async def deliver(self, case_id: str) -> tuple[Ticket, bool]: ...

    async def add_to_thread(self, ticket: Ticket, note: str) -> None: ...

    async def notify_admin(self, ticket: Ticket, what: str) -> None: ...


def answer_rows(case: RecoveryCase, playbook: Playbook) -> list[tuple[str, str]]:
    rows = []
    for question_id, option_id in case.answers.items():
        question = playbook.question(question_id)
        option = question.option(option_id) if question else None
        rows.append((question.prompt if question else question_id, option.label if option else option_id))
    return rows


def pasted_errors(case: RecoveryCase, steps: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The command output the admin pasted: each failed step's error, the one of a failure not
    settled yet, and what the diagnostics could not check; redacted (again: a case from the
    store is not trusted to be), cut, at most MAX_ERRORS."""
    titles = {step["id"]: step["title"] for step in steps}
    found: list[tuple[str, str]] = [(step["title"], step["error"]) for step in steps if step.get("error")]
    pending = case.pending_failure or {}
    if pending.get("error"):
        found.append((titles.get(pending.get("step", ""), "the current step"), pending["error"]))
    for place, name in PLACE_NAMES.items():
        evidence = case.evidence.get(place) if isinstance(case.evidence, dict) else None
        errors = evidence.get("errors") if isinstance(evidence, dict) else None
        for error in errors if isinstance(errors, list) else []:
            found.append((f"{name} diagnostic", str(error)))
    out: list[dict[str, str]] = []
    for where, error in found:
        text = redact(str(error)[: MAX_ERROR_CHARS + 256])[:MAX_ERROR_CHARS].strip()
        if text and {"where": where, "text": text} not in out:
            out.append({"where": where, "text": text})
    return out[:MAX_ERRORS]


def stopped_at(case: RecoveryCase, steps: list[dict[str, Any]]) -> str:
    """Where the case stands for support: the step that failed, else the first one not done."""
    pending = (case.pending_failure or {}).get("step")
    for step in steps:
        if step["id"] == pending:
            return f"{step['title']} (failed)"
    failed = [step for step in steps if step["status"] in ("failed", "stuck")]
    if failed:
        return f"{failed[-1]['title']} ({failed[-1]['status']})"
    waiting = next((step for step in steps if step["status"] == "not done"), None)
    return f"{waiting['title']} (not done yet)" if waiting else ("every step done" if steps else "")


def ticket_summary(
    case: RecoveryCase, playbook: Playbook, admin: dict[str, str], description: str, contact: str
) -> dict[str, Any]:
    """Everything support needs, as plain data (also the handoff event's value)."""
    leaf = playbook.leaves.get(case.leaf_id or "")
    redacted_description = redact(description[:MAX_DESCRIPTION])
    steps = []
    if leaf:
        for step in leaf.steps:
            record = case.steps.get(step.id)
            if record or step.applies(case.answers):
                steps.append(
                    {
                        "id": step.id,
                        "title": step.title,
                        "status": record.status if record else "not done",
                        "at": record.at if record else None,
                        "failures": record.failures if record else 0,
                        "error": record.error if record else "",
                    }
                )
    return {
        "case_number": case.id,
        "tenant_id": case.tenant_id,
        "admin": admin,
        "target_upn": case.upn,
        "answers": dict(answer_rows(case, playbook)),
        "leaf": case.leaf_id,
        "outcome": OUTCOMES.get(leaf.outcome, "") if leaf else "not determined yet",
        "case_state": case.status,
        "end_reason": case.end_reason,
        "steps": steps,
        "stopped_at": stopped_at(case, steps),
        "errors": [e for e in pasted_errors(case, steps) if e["text"] not in redacted_description],
        "recorded_values": ticket_values(case, playbook),  # each its expected shape, none a secret
        "description": redacted_description,
        "contact": redact(contact[:MAX_CONTACT]),
        "support_needs": list(leaf.support_needs) if leaf else [],
        "created_at": case.created_at,
        "deadline": nearest_deadline(case),
    }


def handoff_transcript(entries: list[Entry]) -> dict[str, Any]:
    """The transcript as the Bot Framework handoff protocol's attachment content."""
    return {
        "activities": [
            {
                "type": "message",
                "timestamp": e.at,
                "text": e.text,
                "from": {"role": "user" if e.speaker == "admin" else "bot", "name": e.speaker},
            }
            for e in entries
        ]
    }


@dataclass(frozen=True)
class EscalationRequest:
    case: RecoveryCase
    admin: dict[str, str]  # name, upn, aad_object_id, user_id, conversation_id
    description: str
    contact: str
    form_id: str  # the form being sent ("" for an escalation without a form)
    activity_id: str  # the incoming activity: a re-run or re-delivery of it is the same escalation
    admin_reference: dict[str, Any]  # where to tell the admin what happens to the ticket


@dataclass
class EscalationResult:
    outcome: str  # sent | added | no_channel | not_delivered | already_sent
    cards: list[Card] = field(default_factory=list)
    ticket: Ticket | None = None
    handoff: dict[str, Any] | None = None  # {"value": summary, "transcript": ...} when the handoff event is on
    note: str = ""
    forward: bool = False  # support does not have it yet: the admin gets the transcript to forward


class EscalationDesk:
    def __init__(
        self,
        playbook: Playbook,
        transcripts: TranscriptStore,
        tickets: TicketStore,
        channel: SupportChannel | None,
        handoff_enabled: bool = False,
    ) -> None:
        self.playbook = playbook
        self.transcripts = transcripts
        self.tickets = tickets
        self.channel = channel
        self.handoff_enabled = handoff_enabled

    def form(self, case: RecoveryCase, contact: str, description: str = "") -> Card:
        return escalation_form(case, self.playbook, contact, form_id=secrets.token_hex(6), description=description)

    async def escalate(self, request: EscalationRequest) -> EscalationResult:
        case = request.case
        summary = ticket_summary(case, self.playbook, request.admin, request.description[:MAX_DESCRIPTION], request.contact)
        # The case's ticket is under the case's ref (owner and number); a case escalated before v5
        # keeps its ticket under the number alone (case.ticket_id names it).
        ref = case.ticket_id or case.ref
        claim = Ticket(
            case.id,
            request.activity_id,
            summary,
            request.admin_reference,
            request.admin.get("upn", ""),
            status=PENDING,
            forms={request.form_id: request.activity_id} if request.form_id else {},
            owner=ref.rsplit("/", 1)[0] if "/" in ref else "",
        )
        owner = request.admin.get("aad_object_id") or request.admin.get("user_id") or ""
        existing = await self.tickets.load(ref)
        if existing is not None and existing.summary.get("admin", {}).get("aad_object_id", owner) not in (owner, ""):
            # Only a ticket made before v5 (keyed by the number alone) can be another admin's: it stays theirs.
            log.warning("ticket %s belongs to another admin's case; not escalated", case.id)
            return EscalationResult(
                "refused", note="This case number is taken by another ticket. Start a new case and escalate it."
            )
        quota_owner = owner_scope(case.tenant_id, owner)
        if existing is None and not await self.tickets.take_quota(quota_owner, now_iso()[:10], TICKETS_PER_DAY):
            return EscalationResult("over_quota", note=self.over_quota_note())
        ticket, created = await self.tickets.claim(claim)
        if created:
            telemetry.count("tickets.created")
        same_escalation = created or ticket.created_by_activity == request.activity_id
        if not created and request.form_id:
            sent_by = ticket.forms.get(request.form_id)
            if sent_by is not None and sent_by != request.activity_id:
                return EscalationResult(
                    "already_sent",
                    ticket=ticket,
                    note=f"This form was already sent as ticket {ticket.case_id}; nothing was sent again.",
                )
            if sent_by is None:
                ticket = await self.tickets.update(ref, lambda t: t.add_form(request.form_id, request.activity_id))
        case.status = ESCALATED
        case.ticket_id = ticket.ref
        case.touch()
        result = EscalationResult("sent", ticket=ticket)
        if self.handoff_enabled:
            entries = await self.transcripts.read(case.ref)
            result.handoff = {"value": summary, "transcript": handoff_transcript(entries)}
        channel = self.channel
        address = await channel.address() if channel else None
        if channel is None or address is None:
            result.outcome, result.forward = "no_channel", True
            result.cards = [forward_ticket_card(summary, delivered=False)]
            return result
        if ticket.delivered and not same_escalation:
            # A note in the thread is support's time as a ticket is: a few per ticket an hour, and
            # counted in the admin's daily budget with the tickets.
            if not await self.tickets.take_note_slot(ref) or not await self.tickets.take_quota(
                quota_owner, now_iso()[:10], TICKETS_PER_DAY
            ):
                result.outcome, result.ticket = "over_quota", ticket
                result.note = (
                    f"Your ticket {case.id} already has your recent notes (at most {NOTES_PER_HOUR} an hour, and "
                    f"{TICKETS_PER_DAY} tickets and notes a day). Nothing was sent again: support has your case; "
                    "call your support team if it is urgent."
                )
                return result
            who = request.admin.get("name") or "the admin"
            await channel.add_to_thread(ticket, f"Escalated again by {who}: {summary['description'] or '(no note)'}")
            result.ticket = await self.tickets.update(ref, lambda t: t.record(who, "escalated again"))
            result.outcome, result.cards = "added", [added_to_ticket_card(case.id)]
            return result
        try:
            result.ticket, _ = await channel.deliver(ref)
        except Exception:  # kept and retried in the background; the admin has it all meanwhile
            log.warning("ticket %s not delivered yet; it is kept and retried", case.id, exc_info=True)
            result.outcome, result.forward = "not_delivered", True
            result.cards = [forward_ticket_card(summary, delivered=True)]
            return result
        result.cards = [sent_card(case.id, address.team_name)]
        return result

    @staticmethod
    def over_quota_note() -> str:
        return (
            f"You have sent {TICKETS_PER_DAY} tickets to support today, the most one admin may. Nothing was sent: "
            "call your support team, or escalate tomorrow (your case is kept)."
        )

    async def transcript_file(self, case: RecoveryCase) -> TranscriptFile:
        """The case's transcript as a file, read from the store now, with its ticket's summary on
        top when it has a ticket (the one stored: the same file whenever it is asked for)."""
        ticket = await self.tickets.load(case.ticket_id) if case.ticket_id else None
        entries = await self.transcripts.read(case.ref, MAX_FILE_TRANSCRIPT)
        return transcript_file(case.id, entries, ticket.summary if ticket else None)

    async def transcript_card(self, case: RecoveryCase, note: str) -> Card:
        """The transcript in one collapsed card (where no file can be sent): `note` says why."""
        return collapsed_transcript_card(await self.transcripts.read(case.ref), case.id, note)

    async def record_handoff_status(self, ref: str, state: str) -> Ticket | None:
        """An agent hub's handoff.status, kept on the ticket (by its ref: case.ticket_id) with who-did-what."""
        if await self.tickets.load(ref) is None:
            return None

        def change(ticket: Ticket) -> None:
            ticket.handoff_state = state
            ticket.record("agent hub", f"handoff {state}")

        return await self.tickets.update(ref, change)

    async def act(self, ref: str, op: str, who: str, who_id: str = "") -> tuple[Ticket | None, bool]:
        """Assign, resolve or reopen a ticket (by its ref, what its card's buttons carry); (the
        ticket, whether anything changed). A double click, or an action that does not fit the
        ticket's state, changes nothing, so nobody is told twice. The history keeps who by display
        name and Entra object id (names repeat)."""
        if await self.tickets.load(ref) is None:
            return None, False

        changed: list[bool] = []

        def record(ticket: Ticket, what: str) -> None:
            ticket.record(who, what)
            ticket.history[-1]["who_id"] = who_id
            changed.append(True)

        def change(ticket: Ticket) -> None:
            changed.clear()  # re-run on a concurrent update: only the last run counts
            assignee_id = next((h.get("who_id", "") for h in reversed(ticket.history) if h["what"].startswith("assigned")), "")
            if op == "reopen" and ticket.status == RESOLVED:
                ticket.status = ASSIGNED if ticket.assigned_to else OPEN
                record(ticket, "reopened the ticket")
            elif ticket.status == RESOLVED:
                return
            elif op == "assign" and (ticket.status != ASSIGNED or (ticket.assigned_to, assignee_id) != (who, who_id)):
                ticket.status, ticket.assigned_to = ASSIGNED, who
                record(ticket, "assigned the ticket to themselves")
            elif op == "resolve":
                ticket.status = RESOLVED
                record(ticket, "resolved the ticket")

        ticket = await self.tickets.update(ref, change)
        return ticket, bool(changed)

    async def retry_pending(self) -> int:
        """Deliver the tickets still waiting (the channel refused them, or none was connected);
        the admin hears when theirs arrives."""
        if self.channel is None or await self.channel.address() is None:
            return 0
        delivered = 0
        for ref in await self.tickets.pending():
            if await self.tickets.load(ref) is None:  # purged by retention: nothing left to deliver
                await self.tickets.forget_pending(ref)
                continue
            telemetry.count("tickets.retried")
            try:
                ticket, posted = await self.channel.deliver(ref)
            except Exception:  # noqa: BLE001 - it stays pending for the next round (or another deliverer has it)
                log.info("ticket %s still not delivered", ref.rsplit("/", 1)[-1])
                continue
            if posted:
                delivered += 1
                await self.channel.notify_admin(ticket, "Your ticket has now reached the support team.")
        return delivered
