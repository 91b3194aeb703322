"""The cards the bot comes back with: a wait is over, a reminder the admin asked for, a deadline
coming, a case idle with a deadline ahead; and the date question for a deadline."""

from __future__ import annotations

from typing import Any

from bot.cards.actions import DeadlineAnswer, ReminderAction, data
from bot.cards.base import Card, card, code_block, heading, submit, text
from bot.playbook import ps_quote
from bot.walkthrough.deadlines import DeadlineKind

DEADLINE_INPUT = "deadline_date"


def _who(reminder: Any) -> str:
    return f"{reminder.case_id} ({reminder.upn})" if reminder.upn else reminder.case_id


def wait_buttons(case_id: str) -> list[dict]:
    return [
        submit("Continue", data(ReminderAction(case_id, "continue")), "positive"),
        submit("Remind me in 30 minutes", data(ReminderAction(case_id, "snooze", 30))),
        submit("It is still running", data(ReminderAction(case_id, "running"))),
    ]


def reminder_card(reminder: Any, deadline_line: str = "") -> Card:
    """The card for a due bot.reminders.Reminder."""
    if reminder.kind == "wait":
        body = [
            heading(f"The {reminder.minutes}-minute wait for {_who(reminder)} is over"),
            text(f"After: {reminder.title}", isSubtle=True),
            text(f"Check: {reminder.detail}" if reminder.detail else "Check that it has finished, then continue."),
        ]
        actions = wait_buttons(reminder.case_id)
    elif reminder.kind == "asked":
        body = [heading(f"Reminder: {_who(reminder)}"), text("You asked me to come back to this case now.")]
        if reminder.title:
            body.append(text(f"You were at: {reminder.title}", isSubtle=True))
        if reminder.detail:
            body.append(text(f"Check: {reminder.detail}"))
        actions = wait_buttons(reminder.case_id)
    elif reminder.kind == "deadline":
        days = reminder.minutes // 1440
        body = [heading(f"{days} day{'s' if days != 1 else ''} left for {_who(reminder)}")]
        actions = [submit("Continue", data(ReminderAction(reminder.case_id, "continue")), "positive")]
    else:  # idle
        body = [heading(f"No progress on {_who(reminder)} for 2 days")]
        actions = [submit("Continue", data(ReminderAction(reminder.case_id, "continue")), "positive")]
    if deadline_line:
        body.append(text(deadline_line, color="Attention", weight="Bolder"))
    return card(body, actions)


def deadline_question_card(case_id: str, kind: DeadlineKind, upn: str, answered: str | None = None) -> Card:
    body = [heading(kind.ask), text(f"User: {upn} · case {case_id}", isSubtle=True)]
    body.append(text(f"It tells me when {kind.what}: 30 days after it, the data is gone.", isSubtle=True))
    if kind.input_kind == "text":
        body.append(text("Run this and paste the WhenSoftDeleted value it shows:"))
        body.append(code_block(kind.hint.format(upn=ps_quote(upn))))
    else:
        body.append(text(kind.hint, isSubtle=True, size="Small"))
    if answered is not None:
        body.append(text(answered, weight="Bolder", color="Good"))
        return card(body)
    field: dict[str, Any] = {"type": "Input.Date" if kind.input_kind == "date" else "Input.Text", "id": DEADLINE_INPUT}
    field["label"] = "Date" if kind.input_kind == "date" else "WhenSoftDeleted"
    if kind.input_kind == "text":
        field.update(placeholder="11/20/2026 3:04:05 PM", maxLength=64)
    body.append(field)
    return card(
        body,
        [
            submit("Save the date", data(DeadlineAnswer(case_id, kind.id)), "positive"),
            submit("I don't know", data(DeadlineAnswer(case_id, kind.id, unknown=True))),
        ],
    )
