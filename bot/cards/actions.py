"""Every button's data, typed. The card builders encode a click with `data(...)`, and every
reader of a click (the prompt, the commands, the support channel, the transcript) decodes it
with `decode`, so a button and what reads it cannot drift apart.

Teams sends an Action.Submit as a message whose `value` is the button's data merged with the
card's inputs (by input id), and whose `text` is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

VALUE_PREFIX = "value."  # inputs that record a placeholder value are named value.<placeholder>


@dataclass(frozen=True)
class Command:
    """A command button: start, resume, escalate, help... optionally for one case."""

    command: str
    case: str | None = None
    action = "command"


@dataclass(frozen=True)
class UpnSubmit:
    case: str
    upn: str = ""
    action = "upn"


@dataclass(frozen=True)
class Answer:
    """An option of a scoping or sub-question; `by` is "graph" when it confirms what Graph found."""

    case: str
    question: str
    option: str
    by: str = "admin"
    action = "answer"


@dataclass(frozen=True)
class StepResult:
    """Done (with the sub-question's option, if the step asks one) or It failed, on a step card."""

    case: str
    step: str
    result: str  # done | failed
    option: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    action = "step"


@dataclass(frozen=True)
class SaveValues:
    """'Save and fill in the commands' on a step card whose own commands use what it collects:
    the values are saved and the card comes back in place with them filled in."""

    case: str
    step: str
    values: dict[str, str] = field(default_factory=dict)
    action = "save"


@dataclass(frozen=True)
class Confirm:
    """'I have recorded them' before a destructive step, with the recorded values."""

    case: str
    step: str
    values: dict[str, str] = field(default_factory=dict)
    action = "confirm"


@dataclass(frozen=True)
class FailureChoice:
    """What to do after 'It failed': retry | alternative | escalate, with the error text pasted."""

    case: str
    step: str
    choice: str
    error: str = ""
    action = "failure"


FAILURE_CHOICES = ("retry", "alternative", "escalate")


@dataclass(frozen=True)
class EscalationSubmit:
    case: str
    form: str = ""  # which form was sent: a form is sent once
    description: str = ""
    contact: str = ""
    action = "escalation"


@dataclass(frozen=True)
class EscalationCancel:
    case: str
    action = "escalation_cancel"


@dataclass(frozen=True)
class TicketAction:
    """Assign to me / Resolve / Reopen on a ticket card in the support channel."""

    case: str
    op: str  # assign | resolve | reopen
    action = "ticket"


@dataclass(frozen=True)
class ReminderAction:
    """A button on a reminder: continue the case, remind again in `minutes`, or it is still running."""

    case: str
    op: str  # continue | snooze | running (a reminder card's buttons) | not_yet (a waiting step's button)
    minutes: int = 0
    action = "reminder"


@dataclass(frozen=True)
class DeadlineAnswer:
    """When a deadline's 30-day clock started (the card's date input), or "I don't know"."""

    case: str
    which: str  # a bot.walkthrough.deadlines kind
    unknown: bool = False
    date: str = ""
    action = "deadline"


@dataclass(frozen=True)
class ChangeAnswer:
    """Take back the answer to a question asked before the plan, to answer it again."""

    case: str
    question: str
    action = "change"


@dataclass(frozen=True)
class DiagnosticAction:
    """On the diagnostic and "What I read" cards (issue 22): confirm what was read, say it is not
    right, or answer the questions instead. `exchange_guid` (the mailbox picked among several)
    and `mail_for` are the card's inputs."""

    case: str
    op: str  # confirm | wrong | questions
    exchange_guid: str = ""
    mail_for: str = ""
    action = "diagnostic"


DIAGNOSTIC_OPS = ("confirm", "wrong", "questions")


@dataclass(frozen=True)
class Unrecognised:
    """A click whose data this version of the bot does not know (an old or forged card)."""

    action: str = ""
    case: str | None = None


Click = (
    Command
    | UpnSubmit
    | Answer
    | StepResult
    | SaveValues
    | Confirm
    | FailureChoice
    | EscalationSubmit
    | EscalationCancel
    | TicketAction
    | ReminderAction
    | DeadlineAnswer
    | ChangeAnswer
    | DiagnosticAction
    | Unrecognised
)
# The inputs a card merges into its click.
_INPUTS = {
    "upn": ("upn",),
    "escalation": ("description", "contact"),
    "failure": ("error",),
    "deadline": ("date",),
    "diagnostic": ("exchange_guid", "mail_for"),
}


def data(click: Click) -> dict[str, Any]:
    """The button's data for an Action.Submit (inputs are added by the client, not here)."""
    fields = {k: v for k, v in asdict(click).items() if v not in (None, "", False, 0) and k != "values"}
    for name in _INPUTS.get(click.action, ()):
        fields.pop(name, None)
    return {"action": click.action, **fields}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def recorded_values(value: Mapping[str, Any]) -> dict[str, str]:
    """The value.<name> inputs of a card, as typed (validation is the walkthrough's)."""
    return {
        k[len(VALUE_PREFIX) :]: v
        for k, v in value.items()
        if isinstance(k, str) and k.startswith(VALUE_PREFIX) and isinstance(v, str)
    }


def decode(value: Any) -> Click | None:
    """The click a message's `value` stands for; None when the message was typed."""
    if not isinstance(value, Mapping):
        return None
    action = _text(value.get("action"))
    case = _text(value.get("case")) or None
    if action == "command" and _text(value.get("command")):
        return Command(value["command"], case)
    if case is None:
        return Unrecognised(action)
    if action == "upn":
        return UpnSubmit(case, _text(value.get("upn")))
    if action == "answer" and _text(value.get("question")) and _text(value.get("option")):
        by = "graph" if value.get("by") == "graph" else "admin"
        return Answer(case, value["question"], value["option"], by)
    if action == "step" and _text(value.get("step")) and value.get("result") in ("done", "failed"):
        option = _text(value.get("option")) or None
        return StepResult(case, value["step"], value["result"], option, recorded_values(value))
    if action == "save" and _text(value.get("step")):
        return SaveValues(case, value["step"], recorded_values(value))
    if action == "confirm" and _text(value.get("step")):
        return Confirm(case, value["step"], recorded_values(value))
    if action == "failure" and _text(value.get("step")) and value.get("choice") in FAILURE_CHOICES:
        return FailureChoice(case, value["step"], value["choice"], _text(value.get("error")))
    if action == "escalation":
        return EscalationSubmit(case, _text(value.get("form")), _text(value.get("description")), _text(value.get("contact")))
    if action == "escalation_cancel":
        return EscalationCancel(case)
    if action == "ticket" and value.get("op") in ("assign", "resolve", "reopen"):
        return TicketAction(case, value["op"])
    if action == "reminder" and value.get("op") in ("continue", "snooze", "running", "not_yet"):
        minutes = value.get("minutes")
        return ReminderAction(case, value["op"], minutes if isinstance(minutes, int) and 0 < minutes <= 1440 else 0)
    if action == "change" and _text(value.get("question")):
        return ChangeAnswer(case, value["question"])
    if action == "deadline" and _text(value.get("which")):
        date = _text(value.get("deadline_date")) or _text(value.get("deadline_text"))  # the picker, or a pasted value
        return DeadlineAnswer(case, value["which"], value.get("unknown") is True, date)
    if action == "diagnostic" and value.get("op") in DIAGNOSTIC_OPS:
        return DiagnosticAction(case, value["op"], _text(value.get("exchange_guid"))[:64], _text(value.get("mail_for"))[:32])
    return Unrecognised(action, case)


def describe(click: Click, labels: Mapping[str, str] | None = None) -> str:
    """A click as the transcript writes it: the answer it stands for. `labels` gives the readable
    question, option and step names where the caller knows them."""
    labels = labels or {}
    recorded = "; ".join(f"{labels.get('value.' + k, k)} = {v}" for k, v in getattr(click, "values", {}).items() if v)
    suffix = f" (recorded {recorded})" if recorded else ""
    match click:
        case Answer():
            return f"[answered] {labels.get('question', click.question)}: {labels.get('option', click.option)}"
        case UpnSubmit():
            return f"[user] {click.upn}"
        case StepResult():
            option = f": {labels.get('option', click.option)}" if click.option else ""
            return f"[step {labels.get('step', click.step)}] {click.result}{option}{suffix}"
        case SaveValues():
            return f"[saved values on {labels.get('step', click.step)}]{suffix}"
        case Confirm():
            return f"[confirmed values recorded before {labels.get('step', click.step)}]{suffix}"
        case FailureChoice():
            error = f" (error: {click.error})" if click.error else ""
            return f"[step {labels.get('step', click.step)}] failed, chose {click.choice}{error}"
        case Command():
            return f"[command] {click.command}"
        case EscalationSubmit():
            return f"[escalation form] {click.description}"
        case EscalationCancel():
            return "[escalation form] not now"
        case TicketAction():
            return f"[ticket] {click.op}"
        case ReminderAction():
            return f"[reminder] {click.op}" + (f" {click.minutes} minutes" if click.minutes else "")
        case DeadlineAnswer():
            return f"[deadline {click.which}] " + ("I don't know" if click.unknown else click.date)
        case ChangeAnswer():
            return f"[change the answer to] {labels.get('question', click.question)}"
        case DiagnosticAction():
            picked = f" (mailbox {click.exchange_guid})" if click.exchange_guid else ""
            return f"[diagnostic] {click.op}{picked}"
    return f"[card click] {click.action}"
