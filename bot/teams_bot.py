"""The activity handler: thin. It loads the admin's cases, runs the root dialog, saves state once,
and writes the turn into the case transcript."""

from __future__ import annotations

import asyncio
import logging
import weakref

from botbuilder.core import ActivityHandler, CardFactory, ConversationState, MessageFactory, TurnContext, UserState
from botbuilder.dialogs import Dialog, DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount

from . import cards, metrics
from .access import MESSAGES, AccessGate
from .adapter import OUTGOING_KEY
from .case import CaseBook, now_iso
from .housekeeping import retention_cutoff_iso
from .ledger import DONE, PROCESS, ActivityLedger
from .outgoing import OutgoingBuffer
from .services import CASEBOOK_KEY, IDENTITY_KEY, Identity, Services
from .storage import Conflict, DocumentStore
from .telemetry import note_case
from .transcript import Entry, TranscriptStore, card_text, describe_click, entry

log = logging.getLogger(__name__)
DIALOG_STACK_VERSION = 1  # bump when dialog ids or waterfall steps change: old stacks restart from the case
MAX_ATTEMPTS = 3


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


class RecoveryBot(ActivityHandler):
    def __init__(
        self,
        services: Services,
        dialog: Dialog,
        conversation_state: ConversationState,
        user_state: UserState,
        transcripts: TranscriptStore,
        documents: DocumentStore,
        retention_days: int = 30,
        gate: AccessGate | None = None,
        role_check=None,
    ) -> None:
        self.gate = gate
        self.role_check = role_check  # bot.graph.RoleCheck, when GRAPH_REQUIRE_ADMIN_ROLE is on
        self.services = services
        self.dialog = dialog
        self.conversation_state = conversation_state
        self.user_state = user_state
        self.transcripts = transcripts
        self.documents = documents
        self.retention_days = retention_days
        self.dialog_state = conversation_state.create_property("DialogState")
        self.dialogs = DialogSet(self.dialog_state)
        self.dialogs.add(dialog)
        self.stack_version = conversation_state.create_property("StackVersion")
        self.casebook_state = user_state.create_property("CaseBook")
        self.card_ids = services.card_ids
        self.ledger = ActivityLedger(documents)
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def _ledger_key(self, context: TurnContext) -> tuple[str, str] | None:
        activity = context.activity
        if not activity.id or activity.type != ActivityTypes.message:
            return None
        return (activity.conversation.id if activity.conversation else ""), activity.id

    async def on_turn(self, turn_context: TurnContext) -> None:
        identity = identity_of(turn_context.activity)
        turn_context.turn_state[IDENTITY_KEY] = identity
        refused = self.gate.check(identity.tenant_id, identity.user_id, identity.aad_object_id) if self.gate else None
        if refused:
            metrics.count(refused)
            metrics.set_outcome(refused)
            if turn_context.activity.type == ActivityTypes.message:
                await turn_context.send_activity(MessageFactory.text(MESSAGES[refused]))
            return
        if self.role_check is not None and turn_context.activity.type == ActivityTypes.message:
            allowed, why = await self.role_check.allowed(identity.aad_object_id)
            if not allowed:
                metrics.count("not-admin-role")
                metrics.set_outcome("not-admin-role")
                await turn_context.send_activity(MessageFactory.text(why))
                return
        ledger_key = self._ledger_key(turn_context)
        # One turn at a time per conversation in this process (double clicks, Teams' install
        # events, a re-delivery while the first is still running); across processes the e_tag
        # decides and the loser is re-run on fresh state.
        async with self._lock_for(identity.conversation_id):
            claim = await self.ledger.claim(*ledger_key) if ledger_key else PROCESS
            if claim != PROCESS:
                log.info(
                    "activity %s %s",
                    turn_context.activity.id,
                    "already processed: ignored" if claim == DONE else "in progress elsewhere: asked to retry",
                )
                metrics.count("duplicates-ignored" if claim == DONE else "duplicates-in-progress")
                metrics.set_outcome("duplicate" if claim == DONE else "busy")
                return
            for attempt in range(1, MAX_ATTEMPTS + 1):
                buffer = OutgoingBuffer()
                turn_context.turn_state[OUTGOING_KEY] = buffer
                try:
                    book = await self._attempt(turn_context, force_load=attempt > 1)
                except Conflict:
                    log.warning("state changed under activity %s (attempt %d); re-running it", turn_context.activity.id, attempt)
                    turn_context._responded = False  # nothing of the lost attempt was sent (SDK has no public reset)
                    if attempt == MAX_ATTEMPTS:
                        turn_context.turn_state.pop(OUTGOING_KEY, None)
                        raise
                    continue
                except BaseException:
                    # The error handler speaks directly; what this attempt said is dropped with its state.
                    turn_context.turn_state.pop(OUTGOING_KEY, None)
                    raise
                break
            turn_context.turn_state.pop(OUTGOING_KEY, None)
            sent = buffer.sent
            real_ids = await turn_context.adapter.flush(turn_context, buffer)
            await self.card_ids.remember(identity.conversation_id, real_ids)
            if ledger_key:
                await self.ledger.done(*ledger_key)
        note_case(book.current_id)  # the turn span carries the case number
        await self._write_transcript(turn_context, book, sent)

    async def _attempt(self, turn_context: TurnContext, force_load: bool) -> CaseBook:
        await self.conversation_state.load(turn_context, force_load)
        await self.user_state.load(turn_context, force_load)
        stored = await self.casebook_state.get(turn_context)
        book = CaseBook.from_dict(stored)
        expired = book.purge_older_than(retention_cutoff_iso(self.retention_days))
        turn_context.turn_state[CASEBOOK_KEY] = book
        await super().on_turn(turn_context)
        updated = book.to_dict()
        if updated != (stored or CaseBook().to_dict()):
            await self.casebook_state.set(turn_context, updated)
        # The case first: if the process dies between the two writes, the dialog is behind the case,
        # and the walkthrough (which skips what the case already holds) catches up.
        await self.user_state.save_changes(turn_context)
        await self.conversation_state.save_changes(turn_context)
        if expired:
            await self.transcripts.delete(expired)
        return book

    def _lock_for(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[conversation_id] = lock
        return lock

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if isinstance(activity.value, dict) and activity.value.get("action") == "ticket":
            await self.services.support.channel.handle_action(turn_context, activity.value)
            return
        if activity.conversation and activity.conversation.conversation_type == "channel":
            await self.services.support.handle_channel_message(turn_context)
            return
        if await self.stack_version.get(turn_context, lambda: DIALOG_STACK_VERSION) != DIALOG_STACK_VERSION:
            await self._reset_stack(turn_context, "the bot was updated")
        try:
            await self._run_dialog(turn_context)
        except Exception as exc:  # a stored stack that no longer fits: restart from the case
            if "wasn't found" not in str(exc) and not isinstance(exc, (KeyError, IndexError)):
                raise
            log.warning("dialog stack did not fit (%s); restarting from the case", type(exc).__name__)
            await self._reset_stack(turn_context, "the bot was updated")
            await self._run_dialog(turn_context)

    async def _run_dialog(self, turn_context: TurnContext) -> None:
        """Continue the dialog, or begin it. DialogExtensions.run_dialog does the same plus, on
        every turn, a memory-scope load and save and a state-snapshot trace activity that Teams
        drops; profiling put those at a fifth of a turn, and this bot uses neither."""
        context = await self.dialogs.create_context(turn_context)
        result = await context.continue_dialog()
        if result.status == DialogTurnStatus.Empty:
            await context.begin_dialog(self.dialog.id)

    async def _reset_stack(self, turn_context: TurnContext, why: str) -> None:
        await self.dialog_state.delete(turn_context)
        await self.stack_version.set(turn_context, DIALOG_STACK_VERSION)
        case = self.services.case(turn_context)
        if case is not None and case.is_open:
            await turn_context.send_activity(
                MessageFactory.text(f"Picking up case {case.id} ({case.upn or 'user not chosen yet'}) where you left it; {why}.")
            )

    async def on_event_activity(self, turn_context: TurnContext) -> None:
        """handoff.status from an agent hub: record it on the case and tell the admin."""
        activity = turn_context.activity
        if activity.name != "handoff.status" or not isinstance(activity.value, dict):
            return
        book = self.services.casebook(turn_context)
        case = book.cases.get(str(activity.value.get("case") or "")) or book.current
        state = str(activity.value.get("state", "unknown"))[:40]
        if case is None or case.ticket is None:
            return
        case.ticket.setdefault("history", []).append({"at": now_iso(), "who": "agent hub", "what": f"handoff {state}"})
        case.touch()
        message = str(activity.value.get("message") or "")[:500]
        await turn_context.send_activity(MessageFactory.text(f"Support hub: your case {case.id} is {state}. {message}".strip()))

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        for member in members_added:
            if member.id != bot_id:
                continue
            if turn_context.activity.conversation and turn_context.activity.conversation.conversation_type == "channel":
                await turn_context.send_activity(
                    MessageFactory.text(
                        "Thanks for adding me. To receive mailbox recovery tickets in this channel, mention me with: "
                        "use this channel for support"
                    )
                )
                continue
            book = self.services.casebook(turn_context)
            await turn_context.send_activity(
                MessageFactory.attachment(
                    CardFactory.adaptive_card(cards.welcome_card(self.services.playbook, book.open_cases()))
                )
            )

    async def _write_transcript(self, turn_context: TurnContext, book: CaseBook, outgoing: list[Activity]) -> None:
        case = book.current
        if case is None:
            return
        entries = (
            [incoming_entry(turn_context.activity, self.services)] if turn_context.activity.type == ActivityTypes.message else []
        )
        for activity in outgoing:
            if activity.type != ActivityTypes.message:
                continue
            parts = [activity.text or ""]
            for attachment in activity.attachments or []:
                if isinstance(attachment.content, dict):
                    parts.append(card_text(attachment.content))
            text = "\n".join(p for p in parts if p)
            if text:
                entries.append(entry("bot", text))
        try:
            await self.transcripts.append(case.id, entries)
        except Exception:  # the answer is already sent; never fail the turn for the log
            log.warning("transcript of case %s not written for activity %s", case.id, turn_context.activity.id, exc_info=True)


def incoming_entry(activity: Activity, services: Services) -> Entry:
    if isinstance(activity.value, dict):
        data = activity.value
        labels = {}
        question = services.playbook.question(str(data.get("question", "")))
        if question:
            labels["question"] = question.prompt
            option = question.option(str(data.get("option", "")))
            if option:
                labels["option"] = option.label
        return entry("admin", describe_click(data, labels))
    return entry("admin", activity.text or "")
