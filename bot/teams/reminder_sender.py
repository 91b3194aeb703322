"""Sending a due reminder (bot.reminders) into the admin's personal chat, proactively, with the
conversation reference the turn that scheduled it kept; and the SLA nudge into a ticket's
thread. Every call retries 429 and 5xx with backoff (bot.retry); 403/404 (the app was removed,
the chat is gone) drops the reminder with a log line and a note in the case transcript."""

from __future__ import annotations

import logging
from datetime import datetime

from botbuilder.core import TurnContext
from botbuilder.schema import ConversationReference

from bot.cards.reminders import reminder_card
from bot.clock import Clock
from bot.reminders import DROPPED, RETRY, SENT, Reminder, ReminderDesk
from bot.retry import status_of, with_retries
from bot.support.tickets import ASSIGNED, RESOLVED, TicketStore
from bot.support.transcript import TranscriptStore, card_text, entry
from bot.turn.replies import card_activity
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.case_store import CaseStore
from bot.walkthrough.deadlines import finish_before

log = logging.getLogger(__name__)
GONE = {403, 404}  # the app was removed or the conversation no longer exists: retrying cannot help


class TeamsReminderSender:
    def __init__(
        self,
        adapter,
        app_id: str,
        cases: CaseStore,
        transcripts: TranscriptStore,
        tickets: TicketStore,
        channel,
        desk: ReminderDesk,
        clock: Clock,
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.cases = cases
        self.transcripts = transcripts
        self.tickets = tickets
        self.channel = channel
        self.desk = desk
        self.clock = clock

    async def _case(self, reminder: Reminder) -> RecoveryCase | None:
        key = self.cases.key(reminder.owner, reminder.case_id)
        found = await self.cases.documents.read([key])
        return RecoveryCase.from_dict(found[key][0]) if key in found else None

    async def deliver(self, reminder: Reminder) -> str:
        case = await self._case(reminder)
        if case is None or not self.desk.still_wanted(reminder, case):
            log.info("reminder %s for case %s no longer fits the case: dropped", reminder.kind, reminder.case_id)
            return DROPPED
        if reminder.kind == "sla":
            return await self._nudge(reminder, case)
        return await self._send_to_admin(reminder, case, self.clock.now())

    async def _send_to_admin(self, reminder: Reminder, case: RecoveryCase, now: datetime) -> str:
        content = reminder_card(reminder, finish_before(case, now))
        reference = ConversationReference().deserialize(reminder.reference)

        failure: list[Exception] = []

        async def send(context: TurnContext) -> None:
            # Caught here: the adapter's turn-error handler would otherwise swallow it.
            try:
                await with_retries(lambda: context.send_activity(card_activity(content)))
            except Exception as error:  # noqa: BLE001 - judged below by its status
                failure.append(error)

        await self.adapter.continue_conversation(reference, send, self.app_id)
        if failure:
            status = status_of(failure[0])
            if status not in GONE:
                raise failure[0]  # throttled or down past the retries: the next round tries again
            log.warning(
                "reminder %s for case %s dropped: Teams answered %d (the app was removed or the chat is gone)",
                reminder.kind,
                reminder.case_id,
                status,
            )
            note = f"[note] A reminder could not be delivered (Teams answered {status}): {card_text(content)}"
            await self._note(case.ref, note)
            return DROPPED
        await self._note(case.ref, card_text(content))
        return SENT

    async def _note(self, ref: str, text: str) -> None:
        try:
            await self.transcripts.append(ref, [entry("bot", text)])
        except Exception:  # the message is out (or dropped and logged); never fail the round for the log
            log.warning("transcript not written for a reminder of case %s", ref.rsplit("/", 1)[-1], exc_info=True)

    async def _nudge(self, reminder: Reminder, case: RecoveryCase) -> str:
        ticket = await self.tickets.load(reminder.guard)
        if ticket is None or ticket.status in (ASSIGNED, RESOLVED):
            return DROPPED
        if not ticket.delivered:
            log.info("ticket %s is not in the channel yet: no thread to nudge", ticket.case_id)
            return DROPPED if ticket.status == RESOLVED else RETRY
        hours = f"{self.desk.sla_hours:g}"
        deadline = finish_before(case, self.clock.now())
        note = f"Ticket {ticket.case_id} has not been assigned within {hours} hours. {deadline}".strip()
        await self.channel.add_to_thread(ticket, note)
        await self.tickets.update(ticket.ref, lambda t: t.record("bot", f"not assigned within {hours} hours: nudged"))
        return SENT
