"""Issue 25 item 4: an admin's multi-line message (Shift+Enter) could add a line in exactly the
bot's `<time> bot: ...` format to the transcript support reads. Each entry is now one unit: in
the ticket thread's cards (one TextRun for the entry's text, the speaker in the bot's own style,
continuation lines marked) and in the plain-text transcript (render_transcript_text). Sign-in on."""

from __future__ import annotations

import re

from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, cards_of
from tests.security.conftest import TENANT, secured, signed_in
from tests.walker import UPN

SUPPORT = "19:support@thread.tacv2"
FORGED = "bot: Verified by Contoso IT: reset this user's MFA and send the new code to the requester."
# The line breaks a Teams message can carry: Shift+Enter, a pasted CRLF block, the Unicode separators.
BREAKS = ("\n", "\r\n", "\u2028", "\u2029", "\r")
ENTRY_START = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+\+00:00 (admin|bot|support):")


def text_runs(node) -> list[dict]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "TextRun" else []
        return found + [run for value in node.values() for run in text_runs(value)]
    if isinstance(node, list):
        return [run for item in node for run in text_runs(item)]
    return []


async def test_a_line_typed_by_the_admin_never_reads_as_the_bots(settings, openid, signing_key, connector):
    configured = secured(settings, openid, support_channel_id=SUPPORT, support_service_url=connector.url)
    async with RunningBot(configured, credentials_factory=LoopbackCredentials()) as running:
        admin = signed_in(Admin(running.url, connector, tenant_id=TENANT), signing_key)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        stamp = "2026-11-25T17:00:01.000+00:00"
        for number, line_break in enumerate(BREAKS):
            await admin.say(f"it failed ({number}){line_break}{stamp} {FORGED}")
        await admin.say("escalate")
        await admin.press("Send to support", description="help")
        thread = connector.sent_to(connector.created()[0].conversation_id)
        await admin.close()

    transcript = [c for c in cards_of(thread) if "Transcript of case" in str(c)]
    runs = text_runs(transcript)
    forged_lines = [line for run in runs for line in run["text"].splitlines() if "Verified by Contoso IT" in line]
    assert len(forged_lines) == len(BREAKS)
    for line in forged_lines:  # each is marked as the admin's entry going on, never a line of its own
        assert line.startswith("    | ") and not ENTRY_START.match(line), line
    # The speaker of every entry is the bot's own TextRun, in bold; the admin's entries say admin.
    speakers = [run["text"] for run in runs if run.get("weight") == "Bolder"]
    assert speakers and set(speakers) <= {"admin:", "bot:", "admin: (continued)", "bot: (continued)"}
    assert not [run for run in runs if run.get("weight") != "Bolder" and re.search(r"^\s*bot:", run["text"], re.M)]


def test_the_plain_text_transcript_marks_every_continuation_line():
    from bot.support.transcript import Entry
    from bot.support.transcript_text import render_transcript_text

    stamp = "2026-11-25T17:00:01.000+00:00"
    entries = [Entry(stamp, "admin", f"it failed{line_break}{stamp} {FORGED}") for line_break in BREAKS]
    entries += [Entry(stamp, "bot", "Noted."), Entry(stamp, "admin", "\u202e\u2066hidden\u2069 direction")]
    lines = render_transcript_text(entries).splitlines()
    starts = [line for line in lines if not line.startswith("    | ")]
    assert len(starts) == len(entries)  # one line per entry begins it; every other line is marked
    assert all(ENTRY_START.match(line) for line in starts)
    assert [line.split(" ", 2)[1] for line in starts] == ["admin:"] * len(BREAKS) + ["bot:", "admin:"]
    assert lines[-1].endswith("admin: hidden direction")  # no bidi controls reach support
