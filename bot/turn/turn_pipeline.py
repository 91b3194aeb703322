"""The turn pipeline every activity goes through before and after the bot's handlers:

access (tenant, admin, rate) -> once per activity (ledger) -> one turn at a time per conversation
-> load state, run the handler, save state, re-run on an e_tag conflict -> send what the turn
said -> write the case transcripts.

Replies wait in the attempt's OutgoingBuffer until its state is saved, so nothing of an attempt
that lost an e_tag race reaches the admin; each attempt gets a fresh TurnContext, so the SDK's
own per-turn flags start clean.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import Awaitable, Callable

from botbuilder.core import ConversationState, InvokeResponse, MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from bot import metrics
from bot.hosting.adapter import OUTGOING_KEY
from bot.hosting.logfields import log_field
from bot.hosting.outgoing import OutgoingBuffer, is_provisional
from bot.integrations import telemetry as telemetry_module
from bot.integrations.graph import RoleCheck
from bot.integrations.telemetry import Telemetry
from bot.metrics import TurnOutcome
from bot.reminders import ReminderDesk
from bot.storage import Conflict
from bot.storage.budget import DailyBudget, size_of
from bot.storage.housekeeping import retention_cutoff_iso
from bot.storage.keys import owner_scope
from bot.storage.ledger import DONE, PROCESS, ActivityLedger
from bot.support.transcript import TranscriptStore, TurnTranscript
from bot.turn.access import MESSAGES, AccessGate
from bot.turn.services import CASEBOOK_KEY, IDENTITY_KEY, TRANSCRIPT_KEY, Identity
from bot.walkthrough.case import CASE_ID_PATTERN, CaseBook, now_iso
from bot.walkthrough.case_store import CaseStore

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
Handler = Callable[[TurnContext], Awaitable[None]]


def identity_of(activity: Activity) -> Identity:
    sender = activity.from_property or ChannelAccount()
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant") or {}
    # botbuilder 4.17 maps conversation.tenantId to JSON "tenantID", so Teams' value is lost there:
    # channelData.tenant.id is where Teams' tenant arrives intact.
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    conversation = activity.conversation
    return Identity(
        user_id=sender.id or "unknown",
        name=sender.name or "",
        tenant_id=tenant_id or (conversation.tenant_id if conversation else None) or "",
        aad_object_id=sender.aad_object_id or "",
        conversation_id=conversation.id if conversation else "",
    )


_CASE_MENTION = re.compile(rf"\b{CASE_ID_PATTERN}\b", re.IGNORECASE)


def named_cases(activity: Activity) -> list[str]:
    """Case numbers the activity names (typed, or in a click's data): the turn loads those cases."""
    named = []
    if isinstance(activity.value, dict) and isinstance(activity.value.get("case"), str):
        named.append(activity.value["case"])
    consent = activity.value.get("context") if isinstance(activity.value, dict) else None
    if activity.name == "fileConsent/invoke" and isinstance(consent, dict) and isinstance(consent.get("case"), str):
        named.append(consent["case"])  # a file consent names its case in its context (bot.turn.transcript_file)
    match = _CASE_MENTION.search(activity.text or "")
    if match:
        named.append(match.group(0).upper())
    return named


class TurnPipeline:
    def __init__(
        self,
        conversation_state: ConversationState,
        cases: CaseStore,
        ledger: ActivityLedger,
        transcripts: TranscriptStore,
        retention_days: int = 30,
        gate: AccessGate | None = None,
        role_check: RoleCheck | None = None,
        reminders: ReminderDesk | None = None,
        telemetry: Telemetry | None = None,
        budget: DailyBudget | None = None,
    ) -> None:
        self.conversation_state = conversation_state
        self.cases = cases
        self.ledger = ledger
        self.transcripts = transcripts
        self.retention_days = retention_days
        self.gate = gate
        self.role_check = role_check
        self.reminders = reminders
        self.telemetry = telemetry or telemetry_module.DEFAULT
        self.budget = budget
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def run(self, context: TurnContext, handler: Handler) -> TurnOutcome:
        """Run the turn; its outcome (an exception is left to the SDK's turn error handler, which
        sets the error outcome)."""
        if is_provisional(context.activity.reply_to_id):
            # Teams never sends one of our provisional ids; a client that can set replyToId must
            # not make the bot update (or send) a card of its choosing under that id.
            context.activity.reply_to_id = None
        identity = identity_of(context.activity)
        context.turn_state[IDENTITY_KEY] = identity
        refused = await self._refusal(context, identity)
        if refused:
            return metrics.refused(refused)
        ledger_key = self._ledger_key(context.activity)
        # One turn at a time per conversation in this process (double clicks, Teams' install
        # events, a re-delivery while the first is still running); across processes the e_tag
        # decides and the loser is re-run on fresh state.
        async with self._lock_for(identity.conversation_id):
            claim = await self.ledger.claim(*ledger_key) if ledger_key else PROCESS
            if claim != PROCESS:
                log.info(
                    "activity %s %s",
                    log_field(context.activity.id),
                    "already processed: ignored" if claim == DONE else "in progress elsewhere: asked to retry",
                )
                self.telemetry.count("duplicates-ignored" if claim == DONE else "duplicates-in-progress")
                if claim == DONE and context.activity.type == ActivityTypes.invoke:
                    # Answered once already: the replay gets 200 too (the SDK would say 501), and nothing runs again.
                    await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200)))
                return metrics.DUPLICATE if claim == DONE else metrics.BUSY
            received_at = now_iso()
            for attempt in range(1, MAX_ATTEMPTS + 1):
                attempt_context = TurnContext(context.adapter, context.activity)
                attempt_context.turn_state.update(context.turn_state)
                buffer = attempt_context.turn_state[OUTGOING_KEY] = OutgoingBuffer()
                transcript = attempt_context.turn_state[TRANSCRIPT_KEY] = TurnTranscript()
                try:
                    book = await self._attempt(attempt_context, handler, force_load=attempt > 1)
                except Conflict:
                    activity_id = log_field(context.activity.id)
                    log.warning("state changed under activity %s (attempt %d); re-running it", activity_id, attempt)
                    if attempt == MAX_ATTEMPTS:
                        raise
                    continue
                break
            await context.adapter.flush(context, buffer)
            if ledger_key:
                await self.ledger.done(*ledger_key)
        await self._write_transcripts(context, transcript, book, received_at)
        return TurnOutcome("ok", case_id=book.current_id or "")  # the turn span carries the case number

    async def _refusal(self, context: TurnContext, identity: Identity) -> str | None:
        """Why this turn may not run (told to the sender of a message), or None."""
        refused = self.gate.check(identity.tenant_id, identity.user_id, identity.aad_object_id) if self.gate else None
        if refused:
            self.telemetry.count(refused)
            if context.activity.type == ActivityTypes.message:
                await context.send_activity(MessageFactory.text(MESSAGES[refused]))
            return refused
        # Every activity type, not only messages: an event changes a ticket, a conversationUpdate
        # answers with the welcome card, an invoke acts on a card. The same people only.
        if self.role_check is not None:
            allowed, why = await self.role_check.allowed(identity.aad_object_id)
            if not allowed:
                self.telemetry.count("not-admin-role")
                if context.activity.type in (ActivityTypes.message, ActivityTypes.event):
                    await context.send_activity(MessageFactory.text(why))
                return "not-admin-role"
        if self.budget is not None and context.activity.type == ActivityTypes.message:
            scope = owner_scope(identity.tenant_id, identity.aad_object_id or identity.user_id)
            spent = await self.budget.charge(scope, size_of(context.activity.text, context.activity.value))
            if spent:
                self.telemetry.count("over-budget")
                await context.send_activity(MessageFactory.text(self.budget.refusal(spent)))
                return "over-budget"
        return None

    @staticmethod
    def _ledger_key(activity: Activity) -> tuple[str, str] | None:
        """Every activity with an id is processed once, whatever its type (a handoff.status event
        delivered three times changes the ticket once)."""
        if not activity.id:
            return None
        return (activity.conversation.id if activity.conversation else ""), activity.id

    async def _attempt(self, context: TurnContext, handler: Handler, force_load: bool) -> CaseBook:
        activity = context.activity
        user_id = activity.from_property.id if activity.from_property else "unknown"
        owner = f"{activity.channel_id}/{user_id}"
        await self.conversation_state.load(context, force_load)
        book, loaded = await self.cases.load(owner, f"state/{activity.channel_id}/users/{user_id}", named_cases(activity))
        expired = book.purge_older_than(retention_cutoff_iso(self.retention_days))
        context.turn_state[CASEBOOK_KEY] = book
        await handler(context)
        if self.reminders is not None:  # each case's reminders follow it: waits, deadlines, idle, cancelled when it ends
            await self.reminders.settle(book, owner, TurnContext.get_conversation_reference(activity).serialize())
        # The cases first: if the process dies between the writes, the dialog is behind the case,
        # and the walkthrough (which skips what the case already holds) catches up.
        await self.cases.save(book, loaded)
        await self.conversation_state.save_changes(context)
        if expired:
            identity = context.turn_state[IDENTITY_KEY]
            await self.cases.delete(owner, expired)
            await self.transcripts.delete(
                book.ref(case_id, identity.tenant_id, identity.aad_object_id or identity.user_id) for case_id in expired
            )
        return book

    def _lock_for(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def _write_transcripts(self, context: TurnContext, transcript: TurnTranscript, book: CaseBook, at: str) -> None:
        try:
            identity = context.turn_state[IDENTITY_KEY]
            for case_id, entries in transcript.by_case(book.current_id, at).items():
                ref = book.ref(case_id, identity.tenant_id, identity.aad_object_id or identity.user_id)
                await self.transcripts.append(ref, entries)
        except Exception:  # the answer is already sent; never fail the turn for the log
            log.warning("transcript not written for activity %s", log_field(context.activity.id), exc_info=True)
