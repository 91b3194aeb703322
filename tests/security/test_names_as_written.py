"""Issue 25 item 6: the support team's name was rendered as Markdown on every admin's "Ticket
sent" card (a team named `IT [Re-verify](https://evil.example)` became a live link), and bidi and
other format characters (Unicode Cf) in what people typed reached support's cards as they were.
Names are shown as written (TextRun), and format characters are stripped from every
user-controlled text shown to support. Sign-in on."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from tests.cardcheck import rendered_as_markdown
from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, cards_of, channel_member, joined
from tests.security.conftest import TENANT, secured, signed_in
from tests.walker import UPN

SUPPORT = "19:support@thread.tacv2"
LEAD = "0d4c1f5e-7a3b-4c2d-9e8f-1a2b3c4d5e6f"
TEAM = "IT [Re-verify](https://evil.example)"
# Right-to-left override, isolates, zero-width space and joiner, soft hyphen, word joiner: all Cf.
FORMAT = "\u202e\u2066\u2069\u200b\u200d\u00ad\u2060"


def format_characters(node) -> set[str]:
    if isinstance(node, str):
        return {ch for ch in node if unicodedata.category(ch) == "Cf"}
    if isinstance(node, dict):
        return set().union(*(format_characters(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(format_characters(v) for v in node)) if node else set()
    return set()


async def test_the_team_name_and_everything_typed_reach_cards_as_written(settings, openid, signing_key, connector):
    configured = replace(secured(settings, openid), support_admins=(LEAD,))
    async with RunningBot(configured, credentials_factory=LoopbackCredentials()) as running:
        lead = signed_in(channel_member(running.url, connector, SUPPORT, "Lee Lead", LEAD), signing_key)
        named = lead.activity

        def in_the_team(**fields):
            activity = named(**fields)
            activity["channelData"]["team"]["name"] = TEAM
            return activity

        lead.activity = in_the_team
        assert "now receives mailbox recovery tickets" in joined(await lead.say("use this channel for support"))

        admin = signed_in(Admin(running.url, connector, tenant_id=TENANT, name=f"Eve{FORMAT} Admin"), signing_key)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await admin.say(f"it failed with{FORMAT} error 42")
        await admin.say("escalate")
        sent = await admin.press("Send to support", description=f"see{FORMAT} the log", contact=f"call{FORMAT} me")
        for person in (lead, admin):
            await person.close()

    sent_cards = cards_of(sent)
    assert "evil.example" in str(sent_cards)  # the name is there, as written...
    assert not [t for t in rendered_as_markdown(sent_cards, []) if "evil.example" in t]  # ...never as a link
    ticket = connector.created()[-1].activity["activity"]["attachments"]
    thread = [r.activity.get("attachments") for r in connector.sent_to(connector.created()[-1].conversation_id)]
    assert "Eve Admin" in str(ticket) and "it failed with error 42" in str(thread)
    assert format_characters(ticket) == set() and format_characters(thread) == set()
