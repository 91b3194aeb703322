"""Delivering tickets to the support team's Teams channel (bot.support.escalation's SupportChannel).

The ticket card is posted proactively as a new thread in the channel; the transcript follows as
replies in that thread, each well under Teams' message size limit. Every call to the channel is
retried on 429 and 5xx with exponential backoff and jitter; a ticket that still cannot be
delivered is kept and retried in the background (EscalationDesk.retry_pending).
"""

from __future__ import annotations

import asyncio
import logging

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from bot.cards.support import admin_notice, note_card, ticket_card, transcript_cards
from bot.integrations import telemetry
from bot.retry import status_of, with_retries
from bot.storage import DocumentStore
from bot.support.escalation import ChannelAddress
from bot.support.tickets import Ticket, TicketStore
from bot.support.transcript import Entry, TranscriptStore

log = logging.getLogger(__name__)
CONFIG_KEY = "config/support-channel"


class DeliveryInProgress(Exception):
    """Another deliverer is posting this ticket right now."""


THREAD_PACING_SECONDS = 0.15  # Teams allows 7 messages a second per conversation


class TeamsSupportChannel:
    def __init__(
        self,
        adapter,
        app_id: str,
        tickets: TicketStore,
        transcripts: TranscriptStore,
        documents: DocumentStore,
        configured: ChannelAddress | None = None,
    ) -> None:
        self.adapter = adapter
        self.app_id = app_id
        self.tickets = tickets
        self.transcripts = transcripts
        self.documents = documents
        self.configured = configured

    # --- where ---------------------------------------------------------------------------

    async def address(self) -> ChannelAddress | None:
        if self.configured:
            return self.configured
        found = await self.documents.read([CONFIG_KEY])
        return ChannelAddress(**found[CONFIG_KEY][0]) if found else None

    async def use_channel(self, address: ChannelAddress) -> None:
        self.adapter.sender.policy.require(address.service_url)  # never store an address the bot must not call
        await self.documents.write(CONFIG_KEY, address.__dict__, "*")

    # --- tickets -------------------------------------------------------------------------

    async def deliver(self, case_id: str) -> tuple[Ticket, bool]:
        """Post the ticket (by its ref) unless it is posted or another deliverer holds the lease.
        The lease (bot.storage.lease, on the injected clock) keeps the background retry from
        posting a ticket that a turn is posting right now; it lapses if that process died, and
        then the retry posts."""
        address = await self.address()
        if address is None:
            raise LookupError("no support channel is connected")
        ticket, taken = await self.tickets.take_delivery(case_id)
        if ticket.delivered:
            return ticket, False
        if not taken:
            raise DeliveryInProgress(ticket.case_id)  # the number only: a ref names people
        try:
            thread_id, card_id = await self._post_card(address, ticket)
        except Exception as error:
            failure = error

            def failed(t: Ticket) -> None:
                self._failed(t, failure)
                t.delivering_since = 0.0

            await self.tickets.update(case_id, failed)
            raise

        def delivered(t: Ticket) -> None:
            t.thread_conversation_id, t.card_activity_id, t.service_url = thread_id, card_id, address.service_url
            t.record("bot", "ticket posted to the support channel")

        ticket = await self.tickets.update(case_id, delivered)
        telemetry.count("tickets.delivered")
        entries = await self.transcripts.read(case_id)
        await self._post_transcript(ticket, entries)
        return ticket, True

    @staticmethod
    def _failed(ticket: Ticket, error: Exception) -> None:
        ticket.delivery_attempts += 1
        ticket.last_error = f"{type(error).__name__} {status_of(error) or ''}".strip()

    async def _post_card(self, address: ChannelAddress, ticket: Ticket) -> tuple[str, str]:
        # This one goes through msrest (create_conversation), which needs a plain dict.
        activity = MessageFactory.attachment(CardFactory.adaptive_card(dict(ticket_card(ticket))))
        parameters = ConversationParameters(
            is_group=True, channel_data={"channel": {"id": address.channel_id}}, activity=activity, tenant_id=address.tenant_id
        )
        created: dict[str, str] = {}

        async def capture(context: TurnContext) -> None:
            created["conversation"] = context.activity.conversation.id
            created["activity"] = context.activity.id or context.activity.conversation.id.split("messageid=")[-1]

        await with_retries(
            lambda: self.adapter.create_conversation(self.app_id, capture, parameters, "msteams", address.service_url, None)
        )
        return created["conversation"], created["activity"]

    async def announce(self, address: ChannelAddress, note: str) -> None:
        """A new post in a channel (a notice that the tickets moved); a failure is logged, not raised."""
        parameters = ConversationParameters(
            is_group=True,
            channel_data={"channel": {"id": address.channel_id}},
            activity=MessageFactory.attachment(CardFactory.adaptive_card(dict(note_card(note)))),
            tenant_id=address.tenant_id,
        )

        async def sent(_context: TurnContext) -> None:
            return None

        try:
            await with_retries(
                lambda: self.adapter.create_conversation(self.app_id, sent, parameters, "msteams", address.service_url, None)
            )
        except Exception:  # the move already happened; the old channel just is not told
            log.warning("could not tell the previous support channel that tickets moved", exc_info=True)

    async def _post_transcript(self, ticket: Ticket, entries: list[Entry]) -> None:
        for content in transcript_cards(entries, ticket.case_id):
            await self._send_to_thread(ticket, MessageFactory.attachment(CardFactory.adaptive_card(content)))
            await asyncio.sleep(THREAD_PACING_SECONDS)

    async def add_to_thread(self, ticket: Ticket, note: str) -> None:
        """A note in the ticket's thread, shown as written: what an admin typed never becomes a link."""
        await self._send_to_thread(ticket, MessageFactory.attachment(CardFactory.adaptive_card(note_card(note))))

    async def _send_to_thread(self, ticket: Ticket, activity: Activity) -> None:
        reference = ConversationReference(
            conversation=ConversationAccount(id=ticket.thread_conversation_id, is_group=True),
            service_url=ticket.service_url,
            channel_id="msteams",
            bot=ChannelAccount(id=self.app_id or "bot"),
        )

        async def send(context: TurnContext) -> None:
            await with_retries(lambda: context.send_activity(activity))

        await self.adapter.continue_conversation(reference, send, self.app_id)

    async def notify_admin(self, ticket: Ticket, what: str) -> None:
        reference = ConversationReference().deserialize(ticket.admin_reference)
        notice = MessageFactory.attachment(CardFactory.adaptive_card(admin_notice(ticket.case_id, what)))

        async def send(context: TurnContext) -> None:
            await with_retries(lambda: context.send_activity(notice))

        try:
            await self.adapter.continue_conversation(reference, send, self.app_id)
        except Exception:  # a missed notice is logged; the ticket has moved on
            log.warning("could not notify the admin about ticket %s", ticket.case_id, exc_info=True)
