"""Reminders the bot keeps: when a replication wait is over, when the admin asked for one, 7 days
and 1 day before a case's deadline, after 2 idle days with a deadline ahead, and the support
ticket's SLA nudge. Durable, in the document store; plain Python (bot.edge.reminder_sender is the
Teams side).

    reminders/due/<YYYYMMDDHH>/<case id>.<name>   one reminder, in the bucket of the hour it is due
    reminders/cursor                             the oldest bucket that may still hold reminders

Finding what is due reads the buckets from the cursor to the current hour, never the reminders
due later. Each reminder is sent by whoever first takes its lease (an e_tag-guarded timestamp),
so with several instances on one store exactly one sends it; a lease whose holder died lapses
and the next round sends it. A sent or dropped reminder is deleted; `reminders/` is purged by
age as a backstop (bot.storage.housekeeping).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot import metrics
from bot.clock import Clock
from bot.playbook import InvalidValue, Playbook
from bot.storage import Conflict, DocumentStore, StoreUnavailable
from bot.walkthrough.case import CaseBook, RecoveryCase
from bot.walkthrough.deadlines import deadlines, finish_before

log = logging.getLogger(__name__)
PREFIX = "reminders/"
DUE_PREFIX = "reminders/due/"
CURSOR_KEY = "reminders/cursor"
LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 10  # a reminder that fails this many rounds (not 403/404) is dropped with a log line
DEADLINE_WARNINGS = (7, 1)  # days before a deadline
IDLE_DAYS = 2
SNOOZE_MINUTES = 30
MAX_REMIND_IN = timedelta(days=30)

SENT, DROPPED, RETRY = "sent", "dropped", "retry"


def bucket(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H")


def key_for(due: datetime, reminder_id: str) -> str:
    return f"{DUE_PREFIX}{bucket(due)}/{reminder_id}"


@dataclass
class Reminder:
    id: str  # "<case id>.<name>"
    case_id: str
    owner: str  # the case's owner key (cases/<owner>/<case id>)
    kind: str  # wait | asked | deadline | idle | sla
    due: str  # ISO, UTC
    reference: dict[str, Any]  # the admin's conversation (serialised ConversationReference)
    upn: str = ""
    title: str = ""  # the step, or what the deadline is about
    detail: str = ""  # what to check, or the deadline line
    minutes: int = 0  # the wait as the playbook gives it (before WAIT_SCALE)
    guard: str = ""  # what must still hold when it is sent (the case's updated_at, a deadline)
    lease_until: float = 0.0
    attempts: int = 0

    @property
    def key(self) -> str:
        return key_for(datetime.fromisoformat(self.due), self.id)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Reminder:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in document.items() if k in known})


class ReminderStore:
    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    async def put(self, reminder: Reminder) -> str:
        key = reminder.key
        await self.documents.write(key, asdict(reminder), "*")
        await self._lower_cursor(bucket(datetime.fromisoformat(reminder.due)))
        return key

    async def cancel(self, keys: list[str]) -> None:
        if keys:
            await self.documents.delete(keys)

    async def cursor(self) -> tuple[str | None, str | None]:
        found = await self.documents.read([CURSOR_KEY])
        if CURSOR_KEY not in found:
            return None, None
        document, e_tag = found[CURSOR_KEY]
        return document.get("bucket"), e_tag

    async def _lower_cursor(self, wanted: str) -> None:
        for _ in range(5):
            current, e_tag = await self.cursor()
            if current is not None and current <= wanted:
                return
            try:
                await self.documents.write(CURSOR_KEY, {"bucket": wanted}, e_tag)
                return
            except Conflict:
                continue

    async def advance_cursor(self, past: str, to: str) -> None:
        """Move the cursor from `past` (emptied) to `to`, unless someone lowered it meanwhile."""
        current, e_tag = await self.cursor()
        if current != past:
            return
        with contextlib.suppress(Conflict):
            await self.documents.write(CURSOR_KEY, {"bucket": to}, e_tag)

    async def in_bucket(self, name: str) -> dict[str, Reminder]:
        found = await self.documents.read_prefix(f"{DUE_PREFIX}{name}/")
        return {key: Reminder.from_dict(document) for key, document in found.items()}

    async def take_lease(self, key: str, now: float) -> Reminder | None:
        """The reminder with this instance's lease on it, or None if another holds it or it is gone."""
        found = await self.documents.read([key])
        if key not in found:
            return None
        document, e_tag = found[key]
        reminder = Reminder.from_dict(document)
        if reminder.lease_until > now:
            return None
        reminder.lease_until = now + LEASE_SECONDS
        try:
            await self.documents.write(key, asdict(reminder), e_tag)
        except Conflict:
            return None
        return reminder

    async def release(self, reminder: Reminder) -> None:
        reminder.lease_until = 0.0
        reminder.attempts += 1
        await self.documents.write(reminder.key, asdict(reminder), "*")


class Delivery(Protocol):
    """Sends a due reminder (bot.edge.reminder_sender); returns SENT, DROPPED or RETRY."""

    async def deliver(self, reminder: Reminder) -> str: ...


def hours_between(first: str, last: str) -> list[str]:
    start = datetime.strptime(first, "%Y%m%d%H").replace(tzinfo=UTC)
    end = datetime.strptime(last, "%Y%m%d%H").replace(tzinfo=UTC)
    names = []
    while start <= end:
        names.append(bucket(start))
        start += timedelta(hours=1)
    return names


class ReminderScheduler:
    """Sends what is due: `run_due(now)` is one round (tests call it with their clock);
    `start()` runs a round at once (what was missed while the bot was down) and then every
    `poll_seconds`; `stop()` lets a round in progress finish."""

    def __init__(self, store: ReminderStore, delivery: Delivery, clock: Clock, poll_seconds: float, lookback_days: int = 30):
        self.store = store
        self.delivery = delivery
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lookback = timedelta(days=lookback_days)
        self._stopping = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def run_due(self, now: datetime | None = None) -> int:
        now = now or self.clock.now()
        metrics.count("reminder-rounds")
        current, _ = await self.store.cursor()
        if current is None:
            return 0
        oldest = bucket(now - self.lookback)
        first = max(current, oldest)
        sent = 0
        advancing = True  # the cursor follows while every bucket behind it is empty
        for name in hours_between(first, bucket(now)) if first <= bucket(now) else []:
            remaining = 0
            for key, reminder in sorted((await self.store.in_bucket(name)).items()):
                if datetime.fromisoformat(reminder.due) > now:
                    remaining += 1
                    continue
                outcome = await self._send(key, now)
                sent += outcome == SENT
                remaining += outcome == RETRY
            advancing = advancing and not remaining and name != bucket(now)
            if advancing:
                next_name = bucket(datetime.strptime(name, "%Y%m%d%H").replace(tzinfo=UTC) + timedelta(hours=1))
                await self.store.advance_cursor(current, next_name)
                current = next_name
        return sent

    async def _send(self, key: str, now: datetime) -> str:
        reminder = await self.store.take_lease(key, now.timestamp())
        if reminder is None:
            return RETRY  # another instance holds it (or it is gone): not this round's to send
        try:
            outcome = await self.delivery.deliver(reminder)
        except Exception:  # a failed send is retried next round, never stops the round
            log.warning("reminder %s for case %s not sent; retrying next round", reminder.kind, reminder.case_id, exc_info=True)
            outcome = RETRY
        if outcome == RETRY and reminder.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("reminder %s for case %s dropped after %d attempts", reminder.kind, reminder.case_id, MAX_ATTEMPTS)
            outcome = DROPPED
        if outcome == RETRY:
            await self.store.release(reminder)
        else:
            await self.store.cancel([key])
            metrics.count(f"reminders-{outcome}")
        return outcome

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_due()
            except StoreUnavailable as exc:
                log.warning("reminders skipped a round: %s", exc)
            except Exception:  # the scheduler must never stop the bot
                log.exception("reminder round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_seconds)

    async def stop(self) -> None:
        """Stop after the round in progress (a graceful drain: no reminder is left half-sent)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None


_REMIND_ME = re.compile(r"^remind me in (\d+(?:\.\d+)?|an?|one|two|three) ?(minutes?|mins?|m|hours?|hrs?|h|days?|d)$")
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}


def parse_remind_me(said: str) -> timedelta:
    """'remind me in 2 hours' -> 2 hours; raises InvalidValue with what works."""
    match = _REMIND_ME.match(" ".join(said.lower().split()).rstrip(".!"))
    if not match:
        raise InvalidValue("Say for example 'remind me in 30 minutes', 'remind me in 2 hours' or 'remind me in 1 day'.")
    amount = _WORDS.get(match.group(1)) or float(match.group(1))
    minutes = amount * {"m": 1, "h": 60, "d": 1440}[match.group(2)[0]]
    # Compared as a number first: "remind me in 1000000000 days" is refused, not an overflow.
    if minutes < 1 or minutes > MAX_REMIND_IN.total_seconds() / 60:
        raise InvalidValue("I can remind you from 1 minute to 30 days from now.")
    return timedelta(minutes=minutes)


@dataclass
class ReminderDesk:
    """What turns do with reminders: schedule the ones a turn asked for, and keep each loaded
    case's reminders in line with it (wait over, deadlines, idle, cancelled when it ends)."""

    store: ReminderStore
    playbook: Playbook
    clock: Clock
    wait_scale: float = 1.0
    sla_hours: float = 4.0
    scheduled: list[str] = field(default_factory=list)  # keys written (for logs and tests)

    def scaled(self, minutes: float) -> timedelta:
        return timedelta(minutes=minutes * self.wait_scale)

    async def schedule(
        self, case: RecoveryCase, owner: str, reference: dict[str, Any], name: str, kind: str, due: datetime, **text: Any
    ) -> Reminder:
        """Schedule (or move) the case's reminder `name`; the previous one of that name is dropped."""
        previous = case.reminders.get(name)
        reminder = Reminder(
            f"{case.id}.{name}", case.id, owner, kind, due.astimezone(UTC).isoformat(), reference, case.upn or "", **text
        )
        key = await self.store.put(reminder)
        if previous and previous.get("key") != key:
            await self.store.cancel([previous["key"]])
        case.reminders[name] = {"key": key, "due": reminder.due, "guard": reminder.guard}
        self.scheduled.append(key)
        return reminder

    async def remind_in(
        self, case: RecoveryCase, owner: str, reference: dict[str, Any], delay: timedelta, step_title: str, check: str
    ) -> datetime:
        due = self.clock.now() + delay * self.wait_scale
        await self.schedule(
            case,
            owner,
            reference,
            "asked",
            "asked",
            due,
            title=step_title,
            detail=check,
            minutes=int(delay.total_seconds() // 60),
        )
        return due

    async def settle(self, book: CaseBook, owner: str, reference: dict[str, Any]) -> None:
        """After a turn's handler, before its cases are saved."""
        for case in book.cases.values():
            if case.is_open:
                await self._open_case(case, owner, reference)
            else:
                await self._ended_case(case, owner, reference)

    async def _ended_case(self, case: RecoveryCase, owner: str, reference: dict[str, Any]) -> None:
        cancelled = [r["key"] for name, r in case.reminders.items() if name != "sla"]
        if cancelled:
            await self.store.cancel(cancelled)
            case.reminders = {k: v for k, v in case.reminders.items() if k == "sla"}
        if case.ticket_id and "sla" not in case.reminders and self.sla_hours:
            due = self.clock.now() + timedelta(hours=self.sla_hours)
            await self.schedule(case, owner, {}, "sla", "sla", due, guard=case.ticket_id)

    async def _open_case(self, case: RecoveryCase, owner: str, reference: dict[str, Any]) -> None:
        now = self.clock.now()
        leaf = self.playbook.leaves.get(case.leaf_id or "")
        for step in leaf.steps if leaf else ():
            record = case.steps.get(step.id)
            if step.wait_minutes and record and record.status == "done" and step.id not in case.reminded_steps:
                case.reminded_steps.append(step.id)
                await self.schedule(
                    case,
                    owner,
                    reference,
                    "wait",
                    "wait",
                    now + self.scaled(step.wait_minutes),
                    title=step.title,
                    detail=step.wait_check,
                    minutes=step.wait_minutes,
                )
        ahead = [d for d in deadlines(case) if d.ends > now]
        for deadline in ahead:
            for days in DEADLINE_WARNINGS:
                due = deadline.ends - timedelta(days=days)
                name = f"deadline-{deadline.kind.id}-{days}"
                guard = deadline.ends.isoformat()
                if due > now and case.reminders.get(name, {}).get("guard") != guard:
                    await self.schedule(
                        case, owner, reference, name, "deadline", due, title=deadline.kind.what, minutes=days * 1440, guard=guard
                    )
        if ahead and case.reminders.get("idle", {}).get("guard") != case.updated_at:
            await self.schedule(
                case,
                owner,
                reference,
                "idle",
                "idle",
                now + timedelta(days=IDLE_DAYS),
                detail=finish_before(case, now),
                guard=case.updated_at,
            )

    def still_wanted(self, reminder: Reminder, case: RecoveryCase | None) -> bool:
        """Whether a due reminder still fits its case (it may have moved on since)."""
        if case is None:
            return False
        if reminder.kind == "sla":
            return True  # the ticket decides (bot.edge.reminder_sender)
        if not case.is_open or case.reminders.get(reminder.id.split(".", 1)[1], {}).get("key") != reminder.key:
            return False
        if reminder.kind == "idle":
            return case.updated_at == reminder.guard
        return True
