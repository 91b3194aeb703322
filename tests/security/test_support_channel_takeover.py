"""Only support sees tickets: connecting the support channel from Teams and acting on tickets are
for the support team alone (red-team findings: an ordinary admin's own "IT Support" team took
every ticket; Assign/Resolve payloads worked from any chat)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import pytest_asyncio

from app import StartupRefused, build
from tests.conftest import RunningBot
from tests.harness import Admin, channel_member, joined
from tests.walker import UPN

LEAD = "0d4c1f5e-7a3b-4c2d-9e8f-1a2b3c4d5e6f"
REAL_SUPPORT = "19:real-support@thread.tacv2"
ROGUE = "19:it-support-rogue@thread.tacv2"


PEOPLE: list[Admin] = []


@pytest_asyncio.fixture(autouse=True)
async def close_sessions():
    yield
    while PEOPLE:
        await PEOPLE.pop().close()


def person(bot_url, connector, **fields) -> Admin:
    someone = Admin(bot_url, connector, **fields)
    PEOPLE.append(someone)
    return someone


def in_channel(bot_url, connector, channel: str, name: str, aad_object_id: str | None = None, thread: str = "") -> Admin:
    member = channel_member(bot_url, connector, channel, name, aad_object_id, thread)
    PEOPLE.append(member)
    return member


async def escalate(admin: Admin) -> str:
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.say("escalate")
    return joined(await admin.press("Send to support", description="help"))


@pytest_asyncio.fixture
async def guarded(settings):
    async with RunningBot(replace(settings, support_admins=(LEAD,))) as running:
        yield running


async def test_an_ordinary_admin_cannot_take_the_support_channel(guarded, connector):
    rogue = in_channel(guarded.url, connector, ROGUE, "Mallory")
    reply = joined(await rogue.say("<at>Mailbox Recovery</at> use this channel for support"))
    assert "Only the bot's support admins may connect a support channel" in reply and "nothing was changed" in reply
    victim = person(guarded.url, connector)
    told = await escalate(victim)
    assert "No support team is connected" in told and "IT Support" not in told
    assert connector.created() == []  # nothing of the ticket went to the rogue channel


async def test_without_support_admins_nobody_connects_from_teams_and_is_told_how(bot, connector):
    lead = in_channel(bot.url, connector, REAL_SUPPORT, "Lee Lead", LEAD)
    reply = joined(await lead.say("<at>Mailbox Recovery</at> use this channel for support"))
    assert "SUPPORT_ADMINS" in reply and "neither is configured" in reply and "Nothing was changed" in reply
    assert "No support team is connected" in await escalate(person(bot.url, connector))


async def test_moving_the_channel_is_announced_in_the_old_one(guarded, connector):
    lead = in_channel(guarded.url, connector, REAL_SUPPORT, "Lee Lead", LEAD)
    await lead.say("<at>Mailbox Recovery</at> use this channel for support")
    elsewhere = in_channel(guarded.url, connector, "19:new-home@thread.tacv2", "Lee Lead", LEAD)
    assert "now receives mailbox recovery tickets" in joined(await elsewhere.say("use this channel for support"))
    notice = [r for r in connector.created() if r.activity["channelData"]["channel"]["id"] == REAL_SUPPORT]
    assert notice and "no longer come to this channel: Lee Lead moved them" in str(notice[-1].activity["activity"])


async def test_a_configured_channel_cannot_be_changed_from_teams_and_the_bot_says_so(settings, connector):
    configured = replace(settings, support_admins=(LEAD,), support_channel_id=REAL_SUPPORT, support_service_url=connector.url)
    async with RunningBot(configured) as running:
        lead = in_channel(running.url, connector, ROGUE, "Lee Lead", LEAD)
        reply = joined(await lead.say("use this channel for support"))
        assert "set by its SUPPORT_CHANNEL_ID setting" in reply and "now receives" not in reply
        await escalate(person(running.url, connector))
        assert [r.activity["channelData"]["channel"]["id"] for r in connector.created()] == [REAL_SUPPORT]


async def test_ticket_buttons_work_only_in_the_support_channel(settings, connector):
    configured = replace(settings, support_channel_id=REAL_SUPPORT, support_service_url=connector.url, support_agents=(LEAD,))
    async with RunningBot(configured) as running:
        victim = person(running.url, connector)
        await escalate(victim)
        case_id = connector.created()[0].activity["activity"]["attachments"][0]["content"]["body"][0]["text"].split()[-1]
        resolve = {"action": "ticket", "case": case_id, "op": "resolve"}
        attacker = person(running.url, connector, name="Mallory")  # his own personal chat
        await attacker.click(resolve)
        rogue = in_channel(running.url, connector, ROGUE, "Mallory")  # a channel of his own
        assert "only in the support channel" in joined(await rogue.click(resolve))
        engineer = in_channel(running.url, connector, REAL_SUPPORT, "Sam", LEAD, thread=connector.created()[0].conversation_id)
        assert "I do not know that ticket" in joined(await engineer.click({**resolve, "case": "MR-../../x"}))
        assert "resolved" not in joined(victim.history()).lower()
        assert not [r for r in connector.records if r.kind == "update" and r.conversation_id != victim.conversation_id]


@pytest.mark.parametrize(
    "half", [{"support_channel_id": REAL_SUPPORT}, {"support_service_url": "https://smba.trafficmanager.net/amer/"}]
)
def test_half_a_configured_support_channel_does_not_start(settings, half):
    """SUPPORT_CHANNEL_ID without SUPPORT_SERVICE_URL would leave the chat command free to move the tickets."""
    with pytest.raises(StartupRefused, match="SUPPORT_CHANNEL_ID and SUPPORT_SERVICE_URL go together"):
        build(replace(settings, **half))
