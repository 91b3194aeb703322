"""Issue 25 item 2: each `escalate` + Send on a case that already had a ticket posted a note into
the support thread, outside the daily ticket budget (25 a minute from one admin), and the ticket's
`forms` and `history` grew without bound, rewritten by every Assign/Resolve.

Now a note counts against the same daily budget as a new ticket, a ticket takes at most a few
notes an hour, and forms and history are capped (the oldest history summarised in one line)."""

from __future__ import annotations

from dataclasses import replace

import pytest_asyncio

import bot.support.escalation as escalation
from bot.clock import ManualClock
from bot.support.tickets import MAX_FORMS, MAX_HISTORY, NOTES_PER_HOUR, Ticket
from tests.conftest import RunningBot
from tests.harness import Admin, joined
from tests.walker import UPN

SUPPORT_CHANNEL = "19:support-channel@thread.tacv2"


@pytest_asyncio.fixture
async def clock():
    return ManualClock()


@pytest_asyncio.fixture
async def support_bot(settings, connector, clock):
    configured = replace(
        settings, support_channel_id=SUPPORT_CHANNEL, support_service_url=connector.url, ticket_retry_seconds=3600
    )
    async with RunningBot(configured, clock=clock) as running:
        yield running


async def send_to_support(admin: Admin, note: str) -> str:
    await admin.say("escalate")
    return joined(await admin.press("Send to support", description=note))


def notes_in_thread(connector) -> list[str]:
    return [text for text in (joined([r]) for r in connector.records if r.kind == "send") if "Escalated again by" in text]


async def test_re_escalation_notes_are_limited_per_ticket_and_counted_in_the_daily_budget(
    support_bot, connector, clock, monkeypatch
):
    monkeypatch.setattr(escalation, "TICKETS_PER_DAY", NOTES_PER_HOUR + 2)
    admin = Admin(support_bot.url, connector)
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    assert "sent to support" in await send_to_support(admin, "first")
    told = [await send_to_support(admin, f"again {n}") for n in range(MAX_FORMS + 5)]
    assert len(notes_in_thread(connector)) == NOTES_PER_HOUR  # not one per click
    assert "Nothing was sent again" in told[-1] and "Added to ticket" not in told[-1]

    clock.advance(hours=1)  # a new hour: one more note, the last of the day's budget (1 ticket + 4 notes)
    assert "Added to ticket" in await send_to_support(admin, "an hour later")
    clock.advance(hours=1)
    assert "Nothing was sent again" in await send_to_support(admin, "and again")
    assert len(notes_in_thread(connector)) == NOTES_PER_HOUR + 1
    await admin.say("start new")  # the daily budget is spent: no new ticket either
    await admin.press("Next", upn=UPN)
    assert f"You have sent {NOTES_PER_HOUR + 2} tickets to support today" in await send_to_support(admin, "new case")

    (stored,) = (await support_bot.assembly.documents.read_prefix("tickets/")).values()
    assert len(stored["forms"]) <= MAX_FORMS and len(stored["history"]) <= MAX_HISTORY
    await admin.close()


def test_a_tickets_history_keeps_the_newest_lines_and_summarises_the_oldest():
    ticket = Ticket("MR-ABCDEFGH", "a", {}, {})
    for n in range(MAX_HISTORY * 3):
        ticket.record(f"supporter {n % 2}", "assigned the ticket to themselves" if n % 2 else "resolved the ticket")
    assert len(ticket.history) == MAX_HISTORY
    first = ticket.history[0]
    left_out = MAX_HISTORY * 3 - (MAX_HISTORY - 1)
    assert first["what"].startswith(f"{left_out} earlier entries left out") and sum(first["left_out"].values()) == left_out
    assert ticket.history[-1]["who"] == "supporter 1"
    for n in range(MAX_FORMS * 2):
        ticket.add_form(f"form-{n}", f"activity-{n}")
    assert list(ticket.forms) == [f"form-{n}" for n in range(MAX_FORMS, MAX_FORMS * 2)]
