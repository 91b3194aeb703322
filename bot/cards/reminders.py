"""The cards the bot comes back with: a wait is over, a reminder the admin asked for, a deadline
coming, a case idle with a deadline ahead; and the date question for a deadline."""

from __future__ import annotations

from typing import Any

from bot.cards.actions import DeadlineAnswer, ReminderAction, data
from bot.cards.base import Card, card, code_block, heading, submit, text
from bot.playbook import ps_quote
from bot.walkthrough.deadlines import DeadlineKind

DEADLINE_INPUT = "deadline_date"
DEADLINE_TEXT_INPUT = "deadline_text"


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


def reminder_answered_card(case_id: str, upn: str, what: str) -> Card:
    """A reminder card once one of its buttons was pressed: no buttons left, what was chosen."""
    who = f"{case_id} ({upn})" if upn else case_id
    return card([heading(f"Earlier reminder for {who}"), text(what, weight="Bolder")])


def deadline_question_card(
    case_id: str, kind: DeadlineKind, upn: str, answered: str | None = None, note: str = ""
) -> Card:
    """When a 30-day clock started: one date picker, the PowerShell value pasted as the alternative,
    and "I don't know". Asked one at a time."""
    body = [heading(kind.ask), text(f"User: {upn} · case {case_id}", isSubtle=True)]
    body.append(text(f"It tells me when {kind.what}: 30 days after it, the data is gone.", isSubtle=True))
    if kind.input_kind == "text":
        body.append(text("Run this in the Exchange Online window and pick the WhenSoftDeleted date it shows:"))
        body.append(code_block(kind.hint.format(upn=ps_quote(upn))))
    else:
        body.append(text(kind.hint, isSubtle=True, size="Small"))
    if note:
        body.append(text(note, color="Attention"))
    if answered is not None:
        body.append(text(answered, weight="Bolder", color="Good" if answered.startswith("Started") else "Default"))
        return card(body)
    body.append({"type": "Input.Date", "id": DEADLINE_INPUT, "label": "Date"})
    body.append(
        {
            "type": "Input.Text",
            "id": DEADLINE_TEXT_INPUT,
            "label": "Or paste the value as PowerShell prints it",
            "placeholder": "11/20/2026 3:04:05 PM",
            "maxLength": 64,
        }
    )
    return card(
        body,
        [
            submit("Save the date", data(DeadlineAnswer(case_id, kind.id)), "positive"),
            submit("I don't know", data(DeadlineAnswer(case_id, kind.id, unknown=True))),
        ],
    )
