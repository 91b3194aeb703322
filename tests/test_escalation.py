"""Escalation to support, on a loopback Teams connector that records every call."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest
import pytest_asyncio

from tests.conftest import RunningBot
from tests.harness import Admin, cards_of, channel_member, find_action, flatten, joined
from tests.support_desk import ADMIN_UPN, SUPPORT_CHANNEL, escalate
from tests.walker import UPN, walk_leaf


@pytest_asyncio.fixture
async def support_bot(settings, connector):
    async with RunningBot(
        replace(
            settings,
            support_channel_id=SUPPORT_CHANNEL,
            support_service_url=connector.url,
            support_tenant_id="tenant",
            ticket_retry_seconds=3600,
        )
    ) as running:
        yield running


@pytest_asyncio.fixture
async def requester(support_bot, connector):
    person = Admin(support_bot.url, connector)
    connector.members[person.user_id] = {
        "id": person.user_id,
        "name": person.name,
        "aadObjectId": person.aad_object_id,
        "userPrincipalName": ADMIN_UPN,
        "email": ADMIN_UPN,
    }
    yield person
    await person.close()


LEAD_ID = "0d4c1f5e-7a3b-4c2d-9e8f-1a2b3c4d5e6f"  # the support lead named in SUPPORT_ADMINS


SAM_ID = "5a5a5a5a-1111-4222-8333-444444444444"  # a support agent named in SUPPORT_AGENTS


@pytest.fixture
def settings(settings):
    return replace(settings, support_admins=(LEAD_ID,), support_agents=(SAM_ID,))


def supporter(admin: Admin, thread_id: str, name: str = "Sam Support", aad_object_id: str | None = SAM_ID) -> Admin:
    """A support engineer in the support channel, or clicking in a ticket's thread there."""
    return channel_member(admin.bot_url, admin.connector, SUPPORT_CHANNEL, name, aad_object_id, thread_id)


async def test_walkthrough_ending_in_escalation_makes_one_ticket_with_summary_and_transcript(requester, connector, playbook):
    walk = await walk_leaf(requester, playbook, {"onprem": "deleted", "entra": "present", "mailbox": "not_present"})  # A2
    assert "needs Microsoft Support" in walk.ending_text
    await requester.say("my client secret is abc~DEF1234567890123456789012345678")  # a secret, typed by mistake
    records = await requester.press("Escalate to support")
    assert "What went wrong?" in joined(records)
    reply = await requester.press("Send to support", description="password=Hunter2! and the cmdlet said access denied")
    assert "sent to support" in joined(reply)

    tickets = connector.created()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.activity["channelData"]["channel"]["id"] == SUPPORT_CHANNEL
    card = ticket.activity["activity"]["attachments"][0]["content"]
    text = flatten(card)
    for expected in (
        "Mailbox recovery ticket MR-",
        UPN,
        requester.tenant_id,
        requester.name,
        requester.aad_object_id,
        "A2",
        "Deleted",
        "Present",
        "Collect the facts support will ask for: done",
        "access denied",
    ):
        assert expected in text, expected
    assert "Hunter2" not in text and "password=[redacted]" in text
    titles = [a["title"] for a in card["actions"]]
    assert titles == ["Assign to me", "Resolve", "Chat with the admin"]
    assert card["actions"][2]["url"] == "https://teams.microsoft.com/l/chat/0/0?users=adele.vance%40contoso.com"

    thread = connector.sent_to(ticket.conversation_id)
    transcript = "\n".join(flatten(c) for c in cards_of(thread))
    assert "Transcript of case" in transcript
    lines = [line for line in transcript.splitlines() if " admin: " in line or " bot: " in line]
    assert lines == sorted(lines, key=lambda line: line.split(" ")[0])  # in order of time
    assert "admin: start" in transcript and f"admin: [user] {UPN}" in transcript
    assert "[answered] What is the current state of the user's on-premises Active Directory account?: Deleted" in transcript
    assert "Connect-ExchangeOnline" in transcript  # the commands that were shown
    assert "abc~DEF" not in transcript and "[redacted" in transcript
    assert all(len(str(r.activity)) < 80_000 for r in thread)


async def test_the_same_activity_twice_and_a_double_click_make_one_ticket(requester, connector):
    await requester.say("start")
    await requester.press("Next", upn=UPN)
    await requester.say("escalate")
    data, card_id = find_action(requester.history(), "Send to support")
    activity = requester.activity(value={**data, "description": "first"}, replyToId=card_id)
    await asyncio.gather(requester.post(activity), requester.post(activity))
    assert len(connector.created()) == 1
    thread_id = connector.created()[0].conversation_id
    sent_before = len(connector.sent_to(thread_id))
    # The same form clicked again hands out nothing and says so in one line.
    again = await requester.click(data, card_id, description="clicked again")
    assert joined(again) == f"This form was already sent as ticket {data['case']}; nothing was sent again."
    assert len(connector.created()) == 1 and len(connector.sent_to(thread_id)) == sent_before
    form = [r for r in connector.records if r.kind == "update" and r.activity_id == card_id]
    assert form and "as ticket" in joined(form[-1:]) and "actions" not in form[-1].activity["attachments"][0]["content"]
    # A new escalation of the same case (a new form) adds to the ticket's thread.
    await requester.say("escalate")
    data, card_id = find_action(requester.history(), "Send to support")
    await requester.click(data, card_id, description="second thoughts")
    assert len(connector.created()) == 1
    assert "Escalated again by Adele Vance: second thoughts" in joined(connector.sent_to(thread_id))


async def test_assign_and_resolve_update_the_card_and_tell_the_admin(requester, connector):
    await requester.say("start")
    await requester.press("Next", upn=UPN)
    await escalate(requester)
    ticket = connector.created()[0]
    sam = supporter(requester, ticket.conversation_id)
    assign = {"action": "ticket", "case": find_case(ticket), "op": "assign"}
    before = len(requester.history())
    await sam.click(assign, ticket.activity_id)
    update = next(r for r in connector.records if r.kind == "update" and r.activity_id == ticket.activity_id)
    updated = flatten(update.activity["attachments"][0]["content"])
    assert "Status: Assigned to Sam Support" in updated and "Sam Support: assigned the ticket to themselves" in updated
    told = joined(requester.history()[before:])
    assert "Sam Support from the support team has taken your ticket" in told

    await sam.click(assign, ticket.activity_id)  # a double click changes nothing and tells nobody twice
    assert joined(requester.history()).count("has taken your ticket") == 1

    await sam.click({**assign, "op": "resolve"}, ticket.activity_id)
    resolved = [r for r in connector.records if r.kind == "update" and r.activity_id == ticket.activity_id][-1]
    content = resolved.activity["attachments"][0]["content"]
    assert "Status: Resolved" in flatten(content)
    assert [a["title"] for a in content["actions"]] == ["Reopen", "Chat with the admin"]  # Resolve can be undone
    assert "marked your ticket as resolved" in joined(requester.history())
    await sam.close()


def find_case(ticket) -> str:
    content = ticket.activity["activity"]["attachments"][0]["content"]
    return next(a["data"]["case"] for a in content["actions"] if a["type"] == "Action.Submit")


async def test_throttled_then_accepted_delivers_once(requester, connector):
    await requester.say("start")
    await requester.press("Next", upn=UPN)
    connector.fail_create = [429, 503]
    reply = await escalate(requester)
    assert "sent to support" in joined(reply)
    assert connector.fail_create == []  # both refusals were met, and retried
    assert len(connector.created()) == 1


async def test_a_ticket_that_cannot_be_delivered_is_kept_retried_and_the_admin_told(requester, connector, support_bot):
    await requester.say("start")
    await requester.press("Next", upn=UPN)
    connector.fail_create = [503] * 10
    reply = await escalate(requester)
    text = joined(reply)
    assert "saved but not delivered yet" in text and "Transcript of case" in text
    assert connector.created() == []
    connector.fail_create = []
    desk = support_bot.assembly.services.escalation
    assert await desk.retry_pending() == 1
    assert len(connector.created()) == 1
    assert "has now reached the support team" in joined(requester.history())
    assert await desk.retry_pending() == 0


async def test_support_channel_captured_by_a_command_in_the_channel(bot, connector, admin):
    engineer = supporter(admin, SUPPORT_CHANNEL, name="Lee Lead", aad_object_id=LEAD_ID)
    records = await engineer.say("<at>Mailbox Recovery</at> use this channel for support")
    assert "This channel now receives mailbox recovery tickets (connected by Lee Lead)" in joined(records)
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    reply = await escalate(admin)
    assert "sent to support" in joined(reply)
    assert connector.created()[0].activity["channelData"]["channel"]["id"] == SUPPORT_CHANNEL
    await engineer.close()


@pytest.mark.parametrize("enabled", [True, False])
async def test_handoff_event_carries_the_transcript_when_enabled(settings, connector, enabled):
    running = RunningBot(replace(settings, handoff_enabled=enabled))
    await running.start()
    admin = Admin(running.url, connector)
    try:
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await escalate(admin)
        events = [r.activity for r in admin.history() if r.activity.get("type") == "event"]
        if not enabled:
            assert events == []
            return
        assert len(events) == 1 and events[0]["name"] == "handoff.initiate"
        assert events[0]["value"]["target_upn"] == UPN
        attachment = events[0]["attachments"][0]
        assert attachment["name"] == "Transcript" and attachment["contentType"] == "application/json"
        texts = [a["text"] for a in attachment["content"]["activities"]]
        assert "start" in texts and any(t.startswith("[user] ") for t in texts)
        records = await admin.send(
            type="event", name="handoff.status", value={"state": "accepted", "message": "Agent Kim"}, text=None
        )
        assert "Support hub: your case MR-" in joined(records) and "accepted" in joined(records)
    finally:
        await admin.close()
        await running.stop()


async def test_an_escalated_case_can_be_resumed_where_it_stopped(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.press("Deleted")
    await escalate(admin)
    case_id = re.search(r"MR-[A-Z0-9]{8}", joined(await admin.say("cases"))).group(0)
    records = await admin.say(f"resume {case_id}")
    assert "Question 2 of up to 6: What is the current state of the user's Entra ID" in joined(records)


async def test_the_retry_loop_never_posts_a_ticket_being_posted(requester, connector, support_bot):
    await requester.say("start")
    await requester.press("Next", upn=UPN)
    desk = support_bot.assembly.services.escalation
    connector.hold_create = asyncio.Event()  # Teams keeps the ticket's post waiting
    escalation = asyncio.create_task(escalate(requester))
    await connector.create_waiting.wait()  # the turn holds the delivery lease and waits on the channel
    assert await desk.retry_pending() == 0
    connector.hold_create.set()
    assert "sent to support" in joined(await escalation)
    assert len(connector.created()) == 1


def test_long_transcripts_are_split_under_the_teams_message_limit():
    import json

    from bot.cards.support import transcript_cards
    from bot.support.transcript import Entry

    entries = [Entry("2026-11-25T17:00:00.000+00:00", "bot", "Get-Mailbox " + "x" * 3_900) for _ in range(200)]
    entries.append(Entry("2026-11-25T17:01:00.000+00:00", "admin", "y" * 50_000))
    cards = transcript_cards(entries, "MR-ABCDEF")
    assert len(cards) > 10
    assert all(len(json.dumps(c).encode("utf-16-le")) < 80_000 for c in cards)
    text = "".join(block["inlines"][2]["text"] for c in cards for block in c["body"][1:])  # each entry's own text
    assert text.count("Get-Mailbox") == 200 and text.count("y") == 50_000  # nothing lost in the split


async def test_a_channel_connected_after_an_escalation_gets_that_one_ticket(bot, connector, admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    assert "No support team is connected" in joined(await escalate(admin))
    engineer = supporter(admin, SUPPORT_CHANNEL, name="Lee Lead", aad_object_id=LEAD_ID)
    await engineer.say("<at>Mailbox Recovery</at> use this channel for support")
    reply = await escalate(admin, "still broken")
    assert "sent to support" in joined(reply) and "Added to ticket" not in joined(reply)
    assert len(connector.created()) == 1
    await engineer.close()


async def test_an_agent_hubs_handoff_status_is_recorded_on_the_ticket(settings, connector):
    async with RunningBot(
        replace(settings, handoff_enabled=True, support_channel_id=SUPPORT_CHANNEL, support_service_url=connector.url)
    ) as running:
        admin = Admin(running.url, connector)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await escalate(admin)
        await admin.send(type="event", name="handoff.status", value={"state": "accepted"}, text=None)
        ticket = connector.created()[0]
        engineer = supporter(admin, ticket.conversation_id)
        await engineer.click({"action": "ticket", "case": find_case(ticket), "op": "assign"}, ticket.activity_id)
        update = [r for r in connector.records if r.kind == "update" and r.activity_id == ticket.activity_id][-1]
        history = flatten(update.activity["attachments"][0]["content"])
        assert "agent hub: handoff accepted" in history and "Sam Support: assigned the ticket to themselves" in history
        await engineer.close()
        await admin.close()


async def test_a_ticket_purged_by_retention_leaves_the_retry_list(requester, connector, support_bot):
    await requester.say("start")
    await requester.press("Next", upn=UPN)
    connector.fail_create = [503] * 10
    await escalate(requester)
    tickets = support_bot.assembly.services.escalation.tickets
    (case_id,) = await tickets.pending()
    await support_bot.assembly.documents.delete([f"tickets/{case_id}"])  # as the retention purge does
    connector.fail_create = []
    assert await support_bot.assembly.services.escalation.retry_pending() == 0
    assert await tickets.pending() == [] and connector.created() == []  # not retried every round forever
