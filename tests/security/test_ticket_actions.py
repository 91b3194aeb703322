"""Issue 25 item 3: ticket actions are for the support staff, from the ticket's own thread. Any
member of the support channel could Assign or Resolve any ticket, Resolve could not be undone,
the history named people by display name only, and a click forged in ticket A's thread updated
ticket B's card there. Sign-in on."""

from __future__ import annotations

from dataclasses import replace

import pytest_asyncio

from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, channel_member, flatten, joined
from tests.security.conftest import TENANT, secured, signed_in
from tests.walker import UPN

SUPPORT = "19:support@thread.tacv2"
AGENT = "5a5a5a5a-1111-4222-8333-444444444444"
LEAD = "6b6b6b6b-1111-4222-8333-444444444444"


@pytest_asyncio.fixture
async def support_bot(settings, openid, connector):
    configured = secured(settings, openid, support_channel_id=SUPPORT, support_service_url=connector.url, support_agents=(AGENT,))
    async with RunningBot(replace(configured, support_admins=(LEAD,)), credentials_factory=LoopbackCredentials()) as running:
        yield running


async def ticket_of(running, connector, key, name: str):
    admin = signed_in(Admin(running.url, connector, tenant_id=TENANT, name=name), key)
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.say("escalate")
    await admin.press("Send to support", description="help")
    created = connector.created()[-1]
    card = created.activity["activity"]["attachments"][0]["content"]
    case_id = next(a["data"]["case"] for a in card["actions"] if a["type"] == "Action.Submit")
    return admin, created, case_id


def in_thread(running, connector, key, created, name: str, aad_object_id: str) -> Admin:
    return signed_in(channel_member(running.url, connector, SUPPORT, name, aad_object_id, created.conversation_id), key)


def updates_in(connector, conversation_id: str) -> list:
    return [r for r in connector.records if r.kind == "update" and r.conversation_id == conversation_id]


async def test_only_support_staff_act_and_only_from_the_tickets_own_thread(support_bot, connector, signing_key):
    alice, ticket_a, case_a = await ticket_of(support_bot, connector, signing_key, "Alice Admin")
    bob, ticket_b, case_b = await ticket_of(support_bot, connector, signing_key, "Bob Admin")

    # A member of the support channel who is not support staff: refused, nothing changes.
    mallory = in_thread(support_bot, connector, signing_key, ticket_a, "Mallory Member", "7c7c7c7c-1111-4222-8333-444444444444")
    said = joined(await mallory.click({"action": "ticket", "case": case_a, "op": "resolve"}, ticket_a.activity_id))
    assert "Only the bot's support staff" in said
    assert updates_in(connector, ticket_a.conversation_id) == [] and "resolved" not in joined(alice.history())

    # Support staff, but ticket B's button data sent from ticket A's thread: refused there.
    agent_in_a = in_thread(support_bot, connector, signing_key, ticket_a, "Sam Support", AGENT)
    said = joined(await agent_in_a.click({"action": "ticket", "case": case_b, "op": "resolve"}, ticket_a.activity_id))
    assert "its own thread" in said
    assert updates_in(connector, ticket_a.conversation_id) == [] and "resolved" not in joined(bob.history())
    assert updates_in(connector, ticket_b.conversation_id) == []

    # From its own thread the agent assigns and resolves; the history keeps the object id too.
    await agent_in_a.click({"action": "ticket", "case": case_a, "op": "assign"}, ticket_a.activity_id)
    await agent_in_a.click({"action": "ticket", "case": case_a, "op": "resolve"}, ticket_a.activity_id)
    resolved = updates_in(connector, ticket_a.conversation_id)[-1].activity["attachments"][0]["content"]
    assert "Status: Resolved" in flatten(resolved)
    assert [a["title"] for a in resolved["actions"]] == ["Reopen"]
    ticket = await support_bot.assembly.services.escalation.tickets.load(case_a)
    acted = [(h["who"], h.get("who_id"), h["what"]) for h in ticket.history if h["who"] == "Sam Support"]
    assert acted == [
        ("Sam Support", AGENT, "assigned the ticket to themselves"),
        ("Sam Support", AGENT, "resolved the ticket"),
    ]

    # Resolve can be undone, by support staff (a support admin here): Reopen.
    lead = in_thread(support_bot, connector, signing_key, ticket_a, "Lee Lead", LEAD)
    await lead.click({"action": "ticket", "case": case_a, "op": "reopen"}, ticket_a.activity_id)
    reopened = updates_in(connector, ticket_a.conversation_id)[-1].activity["attachments"][0]["content"]
    assert "Status: Assigned to Sam Support" in flatten(reopened)
    assert [a["title"] for a in reopened["actions"]] == ["Assign to me", "Resolve"]
    assert "Lee Lead from the support team has reopened your ticket" in joined(alice.history())
    for person in (alice, bob, mallory, agent_in_a, lead):
        await person.close()
