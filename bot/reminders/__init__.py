"""Reminders the bot keeps: when a replication wait is over, when the admin asked for one, 7 days
and 1 day before a case's deadline, after 2 idle days with a deadline ahead, and the support
ticket's SLA nudge. Durable, in the document store; plain Python (bot.teams.reminder_sender is the
Teams side).

    reminders/due/<YYYYMMDDHH>/<case id>.<name>   one reminder, in the bucket of the hour it is due
    reminders/cursor                             the oldest bucket that may still hold reminders

Finding what is due reads the buckets from the cursor to the current hour, never the reminders
due later. Each reminder is sent by whoever first takes its lease (an e_tag-guarded timestamp),
so with several instances on one store exactly one sends it; a lease whose holder died lapses
and the next round sends it. A sent or dropped reminder is deleted; `reminders/` is purged by
age as a backstop (bot.storage.housekeeping).
"""

from bot.reminders.model import (
    CURSOR_KEY,
    DEADLINE_WARNINGS,
    DROPPED,
    DUE_PREFIX,
    IDLE_DAYS,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    PREFIX,
    RETRY,
    SENT,
    SNOOZE_MINUTES,
    Reminder,
    bucket,
    key_for,
)
from bot.reminders.parsing import MAX_REMIND_IN, parse_remind_me
from bot.reminders.policy import ReminderDesk
from bot.reminders.scheduler import Delivery, ReminderScheduler, hours_between
from bot.reminders.store import ReminderStore

__all__ = [
    "CURSOR_KEY", "DEADLINE_WARNINGS", "DROPPED", "DUE_PREFIX", "IDLE_DAYS", "LEASE_SECONDS", "MAX_ATTEMPTS",
    "MAX_REMIND_IN", "PREFIX", "RETRY", "SENT", "SNOOZE_MINUTES", "Delivery", "Reminder", "ReminderDesk",
    "ReminderScheduler", "ReminderStore", "bucket", "hours_between", "key_for", "parse_remind_me",
]  # fmt: skip
