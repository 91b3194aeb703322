"""Tickets cannot be used to flood the support channel, and a ticket is never shared between two
admins' cases (review: start, escalate, start again made a ticket every few turns, each posting a
card and a transcript; tickets are stored by case number alone)."""

from __future__ import annotations

import re
from dataclasses import asdict

from bot.support.escalation import TICKETS_PER_DAY
from bot.support.tickets import Ticket
from tests.harness import joined
from tests.walker import UPN


async def escalate_a_new_case(admin) -> str:
    await admin.say("start new")
    await admin.press("Next", upn=UPN)
    await admin.say("escalate")
    return joined(await admin.press("Send to support", description="help"))


async def test_one_admin_cannot_create_more_than_the_daily_tickets(admin):
    for _ in range(TICKETS_PER_DAY):
        assert "is ready for support" in await escalate_a_new_case(admin)
    refused = await escalate_a_new_case(admin)
    assert f"You have sent {TICKETS_PER_DAY} tickets to support today" in refused and "Nothing was sent" in refused
    assert "Transcript of case" not in refused  # nothing handed out either


async def test_a_ticket_under_the_same_number_stays_with_the_admin_who_made_it(admin, bot):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    case_id = re.search(r"MR-[A-Z0-9]{8}", joined(await admin.say("status"))).group(0)
    theirs = Ticket(case_id, "x", {"admin": {"aad_object_id": "someone-else"}, "case_number": case_id}, {})
    await bot.assembly.documents.write(f"tickets/{case_id}", asdict(theirs), None)  # another admin's, same number
    await admin.say("escalate")
    told = joined(await admin.press("Send to support", description="mine"))
    assert f"Case {case_id} is ready for support" in told  # tickets are kept by owner and number: mine is my own
    stored = (await bot.assembly.documents.read([f"tickets/{case_id}"]))[f"tickets/{case_id}"][0]
    assert stored["summary"]["admin"]["aad_object_id"] == "someone-else" and stored["forms"] == {}  # theirs, untouched
