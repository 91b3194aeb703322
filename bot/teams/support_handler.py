"""The support team's side (FAQ Plus's expert bot): the channel where tickets arrive.

Assign to me / Resolve / Reopen on a ticket card update it in place, record who (display name
and Entra object id) and when, and tell the admin in their chat. They are accepted only from the
support staff (bot.support.admins), only in the connected support channel, only for a
well-formed ticket ref and only from that ticket's own thread: the same button data sent from
anywhere else, or by anyone else, changes nothing (a click forged in ticket A's thread never
updates ticket B's card there).
"""

from __future__ import annotations

import logging

from botbuilder.core import ActivityHandler, TurnContext
from botbuilder.schema import ChannelAccount

from bot.cards import actions
from bot.cards.support import ticket_card
from bot.support.admins import SupportAdmins
from bot.support.escalation import ChannelAddress, EscalationDesk
from bot.teams.support_channel import TeamsSupportChannel
from bot.turn.replies import card_activity, say
from bot.walkthrough.case import is_case_ref

log = logging.getLogger(__name__)
CONNECT_COMMAND = "use this channel for support"


def channel_data(context: TurnContext) -> dict:
    data = context.activity.channel_data
    return data if isinstance(data, dict) else {}


def channel_id_of(context: TurnContext) -> str:
    channel = channel_data(context).get("channel") or {}
    return str(channel.get("id") or "") if isinstance(channel, dict) else ""


class SupportChannelBot(ActivityHandler):
    def __init__(self, desk: EscalationDesk, channel: TeamsSupportChannel, admins: SupportAdmins) -> None:
        self.desk = desk
        self.channel = channel
        self.admins = admins

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        click = actions.decode(turn_context.activity.value)
        if isinstance(click, actions.TicketAction):
            await self.ticket_action(turn_context, click)
            return
        said = " ".join((TurnContext.remove_recipient_mention(turn_context.activity) or "").lower().split())
        if CONNECT_COMMAND in said:
            await self.connect(turn_context)
            return
        await say(
            turn_context,
            "I post mailbox recovery tickets in a support channel. To receive them in this channel, mention me "
            f"with: {CONNECT_COMMAND}",
        )

    async def ticket_action(self, context: TurnContext, click: actions.TicketAction) -> None:
        address = await self.channel.address()
        if address is None or not channel_id_of(context) or channel_id_of(context) != address.channel_id:
            log.warning("ticket action refused: not from the connected support channel")
            await say(context, "Ticket actions work only in the support channel that receives the tickets.")
            return
        sender = context.activity.from_property
        who, who_id = (sender.name or "someone", sender.aad_object_id or "") if sender else ("someone", "")
        refusal = await self.admins.staff_refusal(who_id)
        if refusal:
            log.warning("ticket action refused: not support staff")
            await say(context, refusal)
            return
        ticket = await self.desk.tickets.load(click.case) if is_case_ref(click.case) else None
        if ticket is None:
            await say(context, "I do not know that ticket.")
            return
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        if not ticket.thread_conversation_id or conversation != ticket.thread_conversation_id:
            log.warning("ticket action refused: not from the ticket's own thread")
            await say(context, "Act on a ticket from its own card, in its own thread. Nothing was changed.")
            return
        ticket, changed = await self.desk.act(click.case, click.op, who, who_id)
        if ticket is None or not changed:
            return  # a double click, or an action that does not fit: nothing changes, nobody is told twice
        update = card_activity(ticket_card(ticket))
        update.id = ticket.card_activity_id
        await context.update_activity(update)
        what = {
            "assign": f"{who} from the support team has taken your ticket.",
            "resolve": f"{who} from the support team has marked your ticket as resolved.",
            "reopen": f"{who} from the support team has reopened your ticket.",
        }[click.op]
        await self.channel.notify_admin(ticket, what)

    async def connect(self, context: TurnContext) -> None:
        sender = context.activity.from_property
        who = sender.name if sender and sender.name else "someone"
        if self.channel.configured is not None:
            await say(
                context,
                "This bot's support channel is set by its SUPPORT_CHANNEL_ID setting, so it cannot be changed from "
                "Teams. Nothing was changed; ask whoever deploys the bot.",
            )
            return
        refusal = await self.admins.refusal(sender.aad_object_id if sender else "")
        if refusal:
            log.warning("support channel connection refused: not a support admin")
            await say(context, refusal)
            return
        data = channel_data(context)
        team = data.get("team") or {}
        tenant = (data.get("tenant") or {}).get("id", "")
        channel_id = channel_id_of(context) or context.activity.conversation.id.split(";")[0]
        new = ChannelAddress(channel_id, context.activity.service_url, tenant, team.get("name", ""))
        old = await self.channel.address()
        if old is not None and old.channel_id == new.channel_id:
            await say(context, "This channel already receives the mailbox recovery tickets.")
            return
        await self.channel.use_channel(new)
        log.info(
            "support channel changed by a support admin (%s)", "first connection" if old is None else "moved from another channel"
        )
        if old is not None:
            await self.channel.announce(
                old,
                f"Mailbox recovery tickets no longer come to this channel: {who} moved them to "
                f"{new.team_name or 'another team'} ({new.channel_id}).",
            )
        await say(
            context,
            f"This channel now receives mailbox recovery tickets (connected by {who}). Each ticket is a new post "
            "with the case summary; its transcript follows in the thread. Assign to me and Resolve update it.",
        )

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(member.id == bot_id for member in members_added):
            await say(
                turn_context,
                f"Thanks for adding me. To receive mailbox recovery tickets in this channel, mention me with: {CONNECT_COMMAND}",
            )
