"""Delivering tickets to the support team's Teams channel, and what support does with them.

The ticket card is posted proactively as a new thread in the channel; the transcript follows as
replies in that thread, each well under Teams' message size limit. Assign to me / Resolve update
the card in place, record who and when, and tell the admin in their chat. Every call to the
channel is retried on 429 and 5xx with exponential backoff and jitter; a ticket that still cannot
be delivered is kept and retried in the background.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
)

from . import telemetry
from .cards import card, heading, text
from .case import RecoveryCase
from .escalation import handoff_transcript, transcript_cards
from .retry import status_of, with_retries
from .storage import DocumentStore
from .tickets import ASSIGNED, OPEN, RESOLVED, Ticket, TicketStore, admin_notice, ticket_card
from .transcript import Entry, TranscriptStore

log = logging.getLogger(__name__)
CONFIG_KEY = "config/support-channel"
DELIVERY_LEASE_SECONDS = 60.0


class DeliveryInProgress(Exception):
    """Another deliverer is posting this ticket right now."""


THREAD_PACING_SECONDS = 0.15  # Teams allows 7 messages a second per conversation


@dataclass(frozen=True)
class ChannelAddress:
    channel_id: str
    service_url: str
    tenant_id: str
    team_name: str = ""


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
        await self.documents.write(CONFIG_KEY, address.__dict__, "*")

    # --- tickets -------------------------------------------------------------------------

    async def escalate(self, context: TurnContext, case: RecoveryCase, summary: dict, admin_upn: str) -> Ticket:
        """Create the case's ticket once and deliver it; a second escalation adds to its thread."""
        reference = TurnContext.get_conversation_reference(context.activity).serialize()
        claim = Ticket(case.id, context.activity.id or "", summary, reference, admin_upn, status=OPEN)
        ticket, created = await self.tickets.claim(claim)
        if created:
            telemetry.count("tickets.created")
        if not created and ticket.created_by_activity != claim.created_by_activity and ticket.delivered:
            who = summary["admin"].get("name") or "the admin"
            await self.add_to_thread(ticket, f"Escalated again by {who}: {summary['description'] or '(no note)'}")
            return await self.tickets.update(case.id, lambda t: t.record(who, "escalated again"))
        # Created now, or the same activity again (a re-run turn, a re-delivery): deliver at most once.
        ticket, _ = await self.deliver(case.id)
        return ticket

    async def deliver(self, case_id: str) -> tuple[Ticket, bool]:
        """Post the ticket unless it is posted or another deliverer holds the lease. The lease
        (an e_tag-guarded timestamp) keeps the background retry from posting a ticket that a
        turn is posting right now; it lapses if that process died, and then the retry posts."""
        address = await self.address()
        if address is None:
            raise LookupError("no support channel is connected")
        now = time.time()

        def take_lease(t: Ticket) -> None:
            if not t.delivered and now - t.delivering_since >= DELIVERY_LEASE_SECONDS:
                t.delivering_since = now

        ticket = await self.tickets.update(case_id, take_lease)
        if ticket.delivered:
            return ticket, False
        if ticket.delivering_since != now:
            raise DeliveryInProgress(case_id)
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

    async def _post_transcript(self, ticket: Ticket, entries: list[Entry]) -> None:
        for content in transcript_cards(entries, ticket.case_id):
            await self._send_to_thread(ticket, MessageFactory.attachment(CardFactory.adaptive_card(content)))
            await asyncio.sleep(THREAD_PACING_SECONDS)

    async def add_to_thread(self, ticket: Ticket, note: str) -> None:
        await self._send_to_thread(ticket, MessageFactory.text(note))

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
        notice = MessageFactory.attachment(CardFactory.adaptive_card(admin_notice(ticket, what)))

        async def send(context: TurnContext) -> None:
            await with_retries(lambda: context.send_activity(notice))

        try:
            await self.adapter.continue_conversation(reference, send, self.app_id)
        except Exception:  # a missed notice is logged; the ticket has moved on
            log.warning("could not notify the admin about ticket %s", ticket.case_id, exc_info=True)

    async def retry_pending(self) -> int:
        delivered = 0
        for case_id in await self.tickets.pending():
            telemetry.count("tickets.retried")
            try:
                ticket, posted = await self.deliver(case_id)
            except Exception:  # noqa: BLE001 - it stays pending for the next round (or another deliverer has it)
                log.info("ticket %s still not delivered", case_id)
                continue
            if posted:
                delivered += 1
                await self.notify_admin(ticket, "Your ticket has now reached the support team.")
        return delivered

    # --- what support does ---------------------------------------------------------------

    async def handle_action(self, context: TurnContext, data: dict) -> None:
        case_id, op = str(data.get("case", "")), data.get("op")
        who = context.activity.from_property.name if context.activity.from_property else "someone"
        ticket = await self.tickets.load(case_id)
        if ticket is None or op not in ("assign", "resolve"):
            await context.send_activity(MessageFactory.text("I do not know that ticket or action."))
            return

        def change(t: Ticket) -> None:
            if op == "assign" and t.status != RESOLVED:
                t.status, t.assigned_to = ASSIGNED, who
                t.record(who, "assigned the ticket to themselves")
            elif op == "resolve" and t.status != RESOLVED:
                t.status = RESOLVED
                t.record(who, "resolved the ticket")

        before = ticket.status, ticket.assigned_to
        ticket = await self.tickets.update(case_id, change)
        if (ticket.status, ticket.assigned_to) == before:
            return  # a double click, or already resolved: nothing changes, nobody is told twice
        update = MessageFactory.attachment(CardFactory.adaptive_card(ticket_card(ticket)))
        update.id = ticket.card_activity_id
        await with_retries(lambda: context.update_activity(update))
        what = (
            f"{who} from the support team has taken your ticket."
            if op == "assign"
            else f"{who} from the support team has marked your ticket as resolved."
        )
        await self.notify_admin(ticket, what)


class SupportDesk:
    """Escalation at the edge: the ticket to the support channel when one is connected (and the
    handoff event when enabled), else everything to the admin to forward."""

    def __init__(self, escalation, channel: TeamsSupportChannel | None, handoff_enabled: bool = False) -> None:
        self.escalation = escalation
        self.channel = channel
        self.handoff_enabled = handoff_enabled

    async def admin_upn(self, context: TurnContext) -> str:
        """The admin's UPN from Teams (for support's "Chat with the admin"); empty where unknown."""
        sender = context.activity.from_property
        if context.activity.channel_id != "msteams" or sender is None:
            return ""
        try:
            member = await TeamsInfo.get_member(context, sender.id)
        except Exception:  # noqa: BLE001 - a nicety: the ticket goes without the chat link
            log.info("could not read the admin's UPN from Teams")
            return ""
        return getattr(member, "user_principal_name", "") or getattr(member, "email", "") or ""

    async def escalate(
        self, context: TurnContext, case: RecoveryCase, admin: dict[str, str], description: str, contact: str
    ) -> list[dict]:
        """Returns the cards to show the admin."""
        upn = await self.admin_upn(context)
        again = case.ticket is not None
        summary = self.escalation.prepare(case, {**admin, "upn": upn}, description, contact)
        if self.handoff_enabled:
            await context.send_activity(await self.handoff_event(case, summary))
        address = await self.channel.address() if self.channel else None
        if address is None:
            return [
                card(
                    [
                        heading(f"Case {case.id} is ready for support"),
                        text(
                            "No support team is connected to this bot. Forward the summary and transcript below "
                            "to your support team, or open a Microsoft Support request with them.",
                            color="Warning",
                        ),
                    ]
                ),
                *await self.escalation.forward_cards(case, summary),
            ]
        try:
            await self.channel.escalate(context, case, summary, upn)
        except Exception:  # kept and retried in the background; the admin has it all meanwhile
            log.warning("ticket %s not delivered yet; it is kept and retried", case.id, exc_info=True)
            return [
                card(
                    [
                        heading(f"Ticket {case.id} is saved but not delivered yet"),
                        text(
                            "The support channel did not accept it just now. I keep retrying and will tell you "
                            "here when it arrives; meanwhile here is everything to forward if it is urgent.",
                            color="Warning",
                        ),
                    ]
                ),
                *await self.escalation.forward_cards(case, summary),
            ]
        if again:
            return [card([heading(f"Added to ticket {case.id}"), text("Support sees your new note in the ticket's thread.")])]
        return [
            card(
                [
                    heading(f"Ticket {case.id} sent to support"),
                    text(
                        f"The support team ({address.team_name or 'support channel'}) has the summary and the "
                        "transcript. You will hear here when someone takes it."
                    ),
                ]
            )
        ]

    async def handoff_event(self, case: RecoveryCase, summary: dict) -> Activity:
        entries = await self.escalation.transcripts.read(case.id)
        transcript = Attachment(content_type="application/json", name="Transcript", content=handoff_transcript(entries))
        return Activity(type=ActivityTypes.event, name="handoff.initiate", value=summary, attachments=[transcript])

    async def handle_channel_message(self, context: TurnContext) -> None:
        """In the support team's channel: connect it, or say what the bot does there."""
        said = " ".join((TurnContext.remove_recipient_mention(context.activity) or "").lower().split())
        if "use this channel for support" in said and self.channel is not None:
            data = context.activity.channel_data if isinstance(context.activity.channel_data, dict) else {}
            channel = data.get("channel") or {}
            team = data.get("team") or {}
            tenant = (data.get("tenant") or {}).get("id", "")
            channel_id = channel.get("id") or context.activity.conversation.id.split(";")[0]
            await self.channel.use_channel(ChannelAddress(channel_id, context.activity.service_url, tenant, team.get("name", "")))
            who = context.activity.from_property.name if context.activity.from_property else "someone"
            log.info("support channel connected by %s", who)
            await context.send_activity(
                MessageFactory.text(
                    f"This channel now receives mailbox recovery tickets (connected by {who}). Each ticket is a new post "
                    "with the case summary; its transcript follows in the thread. Assign to me and Resolve update it."
                )
            )
            return
        await context.send_activity(
            MessageFactory.text(
                "I post mailbox recovery tickets in a support channel. To receive them in this channel, mention me "
                "with: use this channel for support"
            )
        )
