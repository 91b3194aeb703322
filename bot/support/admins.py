"""Who may connect the support channel from Teams: the people named in SUPPORT_ADMINS (Entra
object ids), or the members of SUPPORT_ADMIN_GROUP (nested too, through Graph). Whoever connects a
channel receives every ticket (target users, admins, recorded identifiers, transcripts), so an
ordinary admin may not, and with neither setting nobody may: the channel is then set by
SUPPORT_CHANNEL_ID, or an operator configures one of the two.

Who may act on a ticket (Assign to me, Resolve, Reopen): the support staff, that is the
support agents (SUPPORT_AGENTS object ids, or the members of SUPPORT_AGENT_GROUP) and the support
admins above. Any other member of the support channel may read the tickets but not change them;
with none of the four settings nobody may, and is told which to set."""

from __future__ import annotations

from typing import Protocol

from bot.integrations.graph import GraphUnavailable

HOW_TO_CONFIGURE = (
    "Connecting a support channel from Teams is allowed only for the people named in the bot's SUPPORT_ADMINS "
    "setting (Entra object ids) or the members of SUPPORT_ADMIN_GROUP, and neither is configured. Ask whoever "
    "deploys the bot to set one of them, or to set SUPPORT_CHANNEL_ID. Nothing was changed."
)
NOT_A_SUPPORT_ADMIN = (
    "Only the bot's support admins may connect a support channel (every ticket would go to it). You are not one "
    "of them, so nothing was changed; ask whoever deploys the bot."
)


NO_SUPPORT_STAFF = (
    "Ticket actions are for the bot's support staff: the people named in its SUPPORT_AGENTS or SUPPORT_ADMINS "
    "settings (Entra object ids) or the members of SUPPORT_AGENT_GROUP or SUPPORT_ADMIN_GROUP, and none is "
    "configured. Ask whoever deploys the bot to set one. Nothing was changed."
)
NOT_SUPPORT_STAFF = (
    "Only the bot's support staff may assign, resolve or reopen tickets. You are not one of them, so nothing "
    "was changed; ask whoever deploys the bot to add you to SUPPORT_AGENTS or SUPPORT_AGENT_GROUP."
)


class GroupLookup(Protocol):
    async def in_group(self, object_id: str, group_id: str) -> bool: ...


class SupportAdmins:
    def __init__(
        self,
        object_ids: tuple[str, ...] = (),
        group_id: str = "",
        graph: GroupLookup | None = None,
        agents: tuple[str, ...] = (),
        agent_group_id: str = "",
    ) -> None:
        self.object_ids = {i.lower() for i in object_ids}
        self.group_id = group_id
        self.graph = graph
        self.agents = {i.lower() for i in agents}
        self.agent_group_id = agent_group_id

    async def staff_refusal(self, object_id: str) -> str:
        """'' when this person may act on tickets (a support agent or a support admin), else why not."""
        if not (self.configured or self.agents or self.agent_group_id):
            return NO_SUPPORT_STAFF
        object_id = (object_id or "").lower()
        if object_id and object_id in (self.agents | self.object_ids):
            return ""
        for group in (self.agent_group_id, self.group_id):
            if object_id and group and self.graph is not None:
                try:
                    if await self.graph.in_group(object_id, group):
                        return ""
                except GraphUnavailable as exc:
                    return f"I could not check that you are support staff ({exc}); nothing was changed. Try again in a minute."
        return NOT_SUPPORT_STAFF

    @property
    def configured(self) -> bool:
        return bool(self.object_ids or self.group_id)

    async def refusal(self, object_id: str) -> str:
        """'' when this person may connect the support channel, else why not (to tell them)."""
        if not self.configured:
            return HOW_TO_CONFIGURE
        if object_id and object_id.lower() in self.object_ids:
            return ""
        if object_id and self.group_id and self.graph is not None:
            try:
                if await self.graph.in_group(object_id, self.group_id):
                    return ""
            except GraphUnavailable as exc:
                return f"I could not check that you are a support admin ({exc}); nothing was changed. Try again in a minute."
        return NOT_A_SUPPORT_ADMIN
