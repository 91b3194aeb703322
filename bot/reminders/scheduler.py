"""Sending what is due, one round at a time, under leases (several instances send each reminder once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot import metrics
from bot.clock import Clock
from bot.reminders.model import DROPPED, MAX_ATTEMPTS, RETRY, SENT, Reminder, bucket
from bot.reminders.store import ReminderStore
from bot.storage import StoreUnavailable

log = logging.getLogger(__name__)


class Delivery(Protocol):
    """Sends a due reminder (bot.teams.reminder_sender); returns SENT, DROPPED or RETRY."""

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
