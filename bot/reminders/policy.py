"""Which reminders a case should have: wait over, asked, deadlines, idle; cancelled when the case ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.playbook import Playbook
from bot.reminders.model import DEADLINE_WARNINGS, IDLE_DAYS, Reminder
from bot.reminders.store import ReminderStore
from bot.walkthrough.case import CaseBook, RecoveryCase
from bot.walkthrough.deadlines import deadlines, finish_before


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
            f"{case.ref}.{name}", case.id, owner, kind, due.astimezone(UTC).isoformat(), reference, case.upn or "", **text
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
            return True  # the ticket decides (bot.teams.reminder_sender)
        if not case.is_open or case.reminders.get(reminder.name, {}).get("key") != reminder.key:
            return False
        if reminder.kind == "idle":
            return case.updated_at == reminder.guard
        return True
