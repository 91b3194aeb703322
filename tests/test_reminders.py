"""The bot comes back: reminders when a wait is over, when asked, before a deadline, after idle
days, and the ticket's SLA nudge. Over real HTTP with the recording connector; time moves on an
injected clock, and each round of the scheduler is run by the test (run_due)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock
from bot.reminders import SENT, Reminder, ReminderScheduler, ReminderStore, bucket
from bot.settings import Settings
from bot.storage import MemoryDocumentStore
from bot.storage.housekeeping import purge_once
from bot.walkthrough.case import CASE_SCHEMA_VERSION, RecoveryCase
from bot.walkthrough.deadlines import finish_before, to_ask
from tests.cardcheck import library_problems, schema_problems
from tests.conftest import RunningBot
from tests.harness import Admin, cards_of, flatten, joined
from tests.walker import B5, B7, open_case

UPN = "o'brien@contoso.com"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SUPPORT_CHANNEL = "19:support-channel@thread.tacv2"


def reminders_in(admin: Admin, marker: str) -> list[dict]:
    return [c for c in cards_of(admin.history()) if marker in c["body"][0]["text"]]


async def round_at(bot: RunningBot, clock: ManualClock, **later: float) -> int:
    clock.advance(**later)
    return await bot.assembly.reminders.run_due()


def card_with_heading(records, heading: str) -> tuple[dict, str]:
    for record in reversed(records):
        for content in cards_of([record]):
            if content["body"][0]["text"] == heading:
                return content, record.activity_id
    raise AssertionError(f"no card {heading!r}")


async def answer_deadline(admin: Admin, records, heading: str, title: str, **inputs: str) -> list:
    content, card_id = card_with_heading(records, heading)
    data = next(a["data"] for a in content["actions"] if a["title"] == title)
    return await admin.click(data, card_id, **inputs)


async def test_the_bot_comes_back_once_when_a_sync_wait_is_over(running, clock, person):
    await open_case(person, B7)
    await person.press("Done")
    case_id = joined(await person.say("status")).split("Status of case ")[1][:11]

    await round_at(running, clock, minutes=29)
    assert reminders_in(person, "is over") == []

    await round_at(running, clock, minutes=2)
    await round_at(running, clock, minutes=5)
    [reminder] = reminders_in(person, "is over")
    assert reminder["body"][0]["text"] == f"The 30-minute wait for {case_id} ({UPN}) is over"
    assert "Get-ADSyncScheduler" in joined(person.history()[-1:])  # the step's wait_check
    assert [a["title"] for a in reminder["actions"]] == ["Continue", "Remind me in 30 minutes", "It is still running"]
    assert schema_problems(reminder) == [] and library_problems([reminder]) == [[]]

    live_before = person.history()
    records = await person.press("Continue")
    step_cards = [c for c in cards_of(records) if c["body"][0]["text"].startswith("Step 2 of")]
    assert step_cards and "Done" in [a["title"] for a in step_cards[-1]["actions"]]
    retired = [r for r in records if r.kind == "update"]
    assert {r.activity_id for r in retired} <= {r.activity_id for r in live_before}
    assert not any(c.get("actions") for c in cards_of(retired))
    assert "Shown again below" in joined(retired)  # the step card above
    assert "Continued below." in joined(retired)  # and the reminder itself: its buttons were used


async def test_remind_me_in_2_hours_then_snooze_then_still_running(running, clock, person, playbook):
    await open_case(person, B7)
    said = joined(await person.say("remind me in 2 hours"))
    assert "I will remind you about MR-" in said and "at 11:00 UTC" in said
    assert "remind me in 2 hours'" in joined(await person.say("remind me in soon"))  # how to say it
    assert "from 1 minute to 30 days" in joined(await person.say("remind me in 1000000000 days"))  # refused, no error

    await round_at(running, clock, hours=1, minutes=59)
    assert reminders_in(person, "Reminder:") == []
    await round_at(running, clock, minutes=2)
    assert len(reminders_in(person, "Reminder:")) == 1
    assert f"You were at: {playbook.leaves['B7'].steps[0].title}" in joined(person.history()[-1:])

    assert "at 11:31 UTC" in joined(await person.press("Remind me in 30 minutes"))
    await round_at(running, clock, minutes=31)
    assert len(reminders_in(person, "Reminder:")) == 2

    said = joined(await person.press("It is still running"))
    assert "often take longer" in said and "I will remind you" in said
    await round_at(running, clock, minutes=31)
    assert len(reminders_in(person, "Reminder:")) == 3


@pytest.mark.parametrize("ending", ["start over", "escalate"])
async def test_a_closed_or_escalated_case_cancels_its_reminders(running, clock, person, ending):
    await open_case(person, B7)
    await person.press("Done")
    await person.say("remind me in 1 hour")
    if ending == "escalate":
        await person.say("escalate")
        await person.press("Send to support", description="stuck")
    else:
        await person.say("start over")  # a step is done: it asks first
        await person.press("Close it and start over")
    kept = await running.assembly.documents.read_prefix("reminders/due/")
    assert [key for key in kept if not key.endswith(".sla")] == []  # cancelled, not just skipped; support's nudge stays
    await round_at(running, clock, hours=2)
    assert reminders_in(person, "is over") == [] and reminders_in(person, "Reminder:") == []


async def test_throttled_then_accepted_sends_the_reminder_once(running, clock, person, connector):
    await open_case(person, B7)
    await person.press("Done")
    connector.fail_next = [429, 429]
    await round_at(running, clock, minutes=31)
    await round_at(running, clock, minutes=1)
    assert len(reminders_in(person, "is over")) == 1


async def test_a_removed_app_drops_the_reminder_with_a_log_line_and_a_case_note(running, clock, person, connector, caplog):
    await open_case(person, B7)
    await person.press("Done")
    connector.fail_next = [403]
    with caplog.at_level(logging.WARNING, logger="bot.teams.reminder_sender"):
        await round_at(running, clock, minutes=31)
    await round_at(running, clock, minutes=5)
    assert reminders_in(person, "is over") == []
    assert any("dropped: Teams answered 403" in r.getMessage() for r in caplog.records)
    assert "A reminder could not be delivered (Teams answered 403)" in joined(await person.say("transcript"))


async def test_deadlines_are_asked_one_at_a_time_and_shown_on_the_cards(running, clock, person):
    records = await open_case(person, B5)
    # The Entra deletion date first, alone, before the plan; no card asks for a command before the
    # step that connects to Exchange Online.
    asked = flatten(cards_of(records)[-1])
    assert "When was the user deleted in Entra ID?" in asked and "WhenSoftDeleted" not in asked
    assert "Your recovery plan" not in joined(records)
    bad = await person.press("Save the date", deadline_date="soon")
    assert "is not a date I can read" in joined(bad) and "When was the user deleted in Entra ID?" in joined(bad)
    said = await person.press("Save the date", deadline_date="2026-11-12")
    assert "Started 2026-11-12." in joined(said) and "Your recovery plan" in joined(said)
    _, plan_id = card_with_heading(said, "Your recovery plan")
    assert "Finish before 12 December (17 days left)" in joined([r for r in said if r.activity_id == plan_id])

    step = await person.press("Done")  # the Exchange Online window is connected: now the mailbox's date
    question = "When was the mailbox soft-deleted? Paste its WhenSoftDeleted property."
    assert question in joined(step)
    assert "Get-Mailbox -SoftDeletedMailbox -Identity 'o''brien@contoso.com' | Select-Object WhenSoftDeleted" in joined(step)
    said = await person.press("Save the date", deadline_text="11/20/2026 3:04:05 PM")  # as PowerShell prints it
    assert "Started 2026-11-20." in joined(said)
    assert any(r.kind == "update" and r.activity_id == plan_id for r in said)  # the plan card, updated in place

    status = joined(await person.say("status"))
    assert "Finish before 12 December (17 days left)" in status
    first_case = status.split("Status of case ")[1][:11]

    # A second case whose mailbox was soft-deleted earlier comes first in `cases`, though the
    # first one was worked on last.
    await open_case(person, B5)
    await person.press("I don't know")
    await person.press("Done")
    await person.press("Save the date", deadline_date="2026-11-01")
    await person.say(f"resume {first_case}")
    await person.press("Done")
    listed = joined(await person.say("cases"))
    first, second = listed.index("finish before 1 December"), listed.index("finish before 12 December")
    assert first < second


async def test_reminders_before_a_deadline_and_after_two_idle_days(running, clock, person):
    await open_case(person, B5)
    await person.press("Save the date", deadline_date="2026-11-12")  # when was the user deleted in Entra ID?

    await round_at(running, clock, days=1, hours=23)
    assert reminders_in(person, "No progress") == []
    await round_at(running, clock, hours=2)
    await round_at(running, clock, hours=1)
    assert len(reminders_in(person, "No progress")) == 1
    assert "Finish before 12 December (15 days left)" in joined(person.history()[-1:])

    clock.current = datetime(2026, 12, 5, 0, 1, tzinfo=UTC)
    await running.assembly.reminders.run_due()
    await round_at(running, clock, hours=1)
    assert len(reminders_in(person, "7 days left for")) == 1
    clock.current = datetime(2026, 12, 11, 0, 1, tzinfo=UTC)
    await running.assembly.reminders.run_due()
    await round_at(running, clock, hours=1)
    assert len(reminders_in(person, "1 day left for")) == 1
    assert len(reminders_in(person, "No progress")) == 1

    await round_at(running, clock, minutes=1)
    await person.say("remind me in 1 minute")
    await round_at(running, clock, minutes=2)
    shown = [
        c
        for c in cards_of([r for r in person.history() if r.kind == "send"])
        if any(w in c["body"][0]["text"] for w in ("left for", "No progress", "Reminder:", "When was"))
    ]
    assert len(shown) == 5  # the Entra date question (the mailbox one comes after connecting), idle, 7 days, 1 day, asked
    assert [schema_problems(c) for c in shown] == [[]] * 5
    assert library_problems(shown) == [[]] * 5


async def test_an_unassigned_ticket_is_nudged_once_and_its_card_shows_the_deadline(settings, clock, connector):
    with_channel = replace(
        settings, support_channel_id=SUPPORT_CHANNEL, support_service_url=connector.url, reminder_poll_seconds=3600
    )
    async with RunningBot(with_channel, clock=clock) as bot:
        admin = Admin(bot.url, connector)
        try:
            records = await open_case(admin, B5)
            await answer_deadline(
                admin, records, "When was the user deleted in Entra ID?", "Save the date", deadline_date="2026-11-12"
            )
            await admin.say("escalate")
            await admin.press("Send to support", description="restore failed")
            [ticket] = connector.created()
            ticket_card = flatten(ticket.activity["activity"]["attachments"][0]["content"])
            assert "Finish before: 2026-12-12 (the deleted Entra user is purged)" in ticket_card
            thread = ticket.conversation_id

            await round_at(bot, clock, hours=3, minutes=59)
            assert "has not been assigned" not in joined(connector.sent_to(thread))
            await round_at(bot, clock, minutes=2)
            await round_at(bot, clock, hours=1)
            nudges = [r for r in connector.sent_to(thread) if "has not been assigned within 4 hours" in joined([r])]
            assert len(nudges) == 1
        finally:
            await admin.close()


class CountingStore(MemoryDocumentStore):
    def __init__(self) -> None:
        super().__init__()
        self.prefixes: list[str] = []

    async def read_prefix(self, prefix):
        self.prefixes.append(prefix)
        return await super().read_prefix(prefix)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def deliver(self, reminder: Reminder) -> str:
        self.sent.append(reminder.id)
        return SENT


async def test_a_round_reads_only_the_buckets_due_and_housekeeping_purges_by_prefix(clock):
    documents = CountingStore()
    store = ReminderStore(documents)
    delivery = Recorder()
    scheduler = ReminderScheduler(store, delivery, clock, poll_seconds=3600)
    for name, later in (("soon", timedelta(minutes=90)), ("next-week", timedelta(days=7))):
        await store.put(Reminder(f"MR-AAAAAA.{name}", "MR-AAAAAA", "msteams/u", "asked", (START + later).isoformat(), {}))

    await scheduler.run_due(START + timedelta(hours=2))
    assert delivery.sent == ["MR-AAAAAA.soon"]
    assert documents.prefixes == [
        f"reminders/due/{bucket(START + timedelta(hours=h))}/" for h in (1, 2)
    ]  # from the earliest reminder ever put
    documents.prefixes.clear()
    await scheduler.run_due(START + timedelta(hours=3))
    assert documents.prefixes == [
        f"reminders/due/{bucket(START + timedelta(hours=2))}/",
        f"reminders/due/{bucket(START + timedelta(hours=3))}/",
    ]

    counts = await purge_once(documents, retention_days=0)
    assert counts["reminders/"] == 2  # the next-week reminder and the cursor, by prefix and age


def test_a_v3_case_is_migrated_without_reminders_for_waits_already_behind_it():
    stored = {"id": "MR-AAAAAA", "owner_id": "u", "schema_version": 3, "steps": {"delta_sync": {"status": "done", "at": "x"}}}
    case = RecoveryCase.from_dict(stored)
    assert case.schema_version == CASE_SCHEMA_VERSION and case.reminded_steps == ["delta_sync"] and case.deadline_starts == {}


def test_graphs_deleted_date_sets_the_entra_deadline_without_asking(playbook):
    case = RecoveryCase("MR-AAAAAA", "u", answers={"onprem": "none", "entra": "soft_deleted", "mailbox": "present"}, leaf_id="C4")
    case.graph = {"checked_at": START.isoformat(), "entra": {"state": "soft_deleted", "deleted_at": "2026-11-12T08:00:00Z"}}
    assert finish_before(case, START).startswith("Finish before 12 December (17 days left)")
    assert to_ask(case, playbook) == []
    case.graph = None
    assert [k.id for k in to_ask(case, playbook)] == ["entra_user"]


@pytest.mark.parametrize("raw", ["0", "-1", "fast"])
def test_a_bad_wait_scale_is_refused_with_a_clear_message(raw):
    with pytest.raises(ValueError, match="WAIT_SCALE must be"):
        Settings.from_env({"WAIT_SCALE": raw})
    assert Settings.from_env({}).wait_scale == 1.0 and Settings.from_env({"WAIT_SCALE": "0.002"}).wait_scale == 0.002
