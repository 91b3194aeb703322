"""Cards about where a case stands: the read-only summary a step card becomes once answered,
the choice after 'It failed', a case put aside, and the questions `start` and `resume` ask when
another case is involved.

One card per case has buttons (the current question or step); every card the bot moves past is
updated in place into one of the read-only cards here.
"""

from __future__ import annotations

from bot.cards.actions import ChangeAnswer, Command, FailureChoice, data
from bot.cards.base import Card, as_written, card, clock_time, heading, submit, text, values_shown
from bot.playbook import Leaf, Playbook, Step
from bot.walkthrough.case import CLOSED, RecoveryCase
from bot.walkthrough.rules import step_number

OUTCOME_WORDS = {"done": "Done", "failed": "Failed", "stuck": "Failed", "skipped": "Skipped"}


def _time(iso: str | None, zone: str = "") -> str:
    return clock_time(iso, zone)


def _step_title(leaf: Leaf, step: Step, case: RecoveryCase) -> str:
    number, total = step_number(leaf, step, case)
    return f"Step {number} of {total}: {step.title}"


def step_summary_card(
    leaf: Leaf, step: Step, case: RecoveryCase, playbook: Playbook, outcome: str = "", good: bool = True
) -> Card:
    """A step the walkthrough moved past: title, Done/Failed at what time, the values recorded at it."""
    record = case.steps.get(step.id)
    status = OUTCOME_WORDS.get(record.status, record.status) if record else "Recorded"
    line = f"{status} at {_time(record.at if record else None, case.time_zone)}".strip()
    if outcome:
        line += f": {outcome}"
    body: list[dict] = [heading(_step_title(leaf, step, case)), text(f"User: {case.upn}", isSubtle=True)]
    # Green only for what worked: an answer that gives up ("No, still not") is Done but not good.
    body.append(text(line, weight="Bolder", color="Good" if status == "Done" and good else "Attention"))
    recorded = [(playbook.placeholders[n].label, case.values[n]) for n in (*step.collect, *step.record) if case.values.get(n)]
    if recorded:
        body.extend(values_shown(dict(recorded).items()))
    if record and record.error:
        body.append(text("Error reported:", weight="Bolder", size="Small"))
        body.append(as_written(record.error))
    return card(body)


def confirm_summary_card(leaf: Leaf, step: Step, case: RecoveryCase, playbook: Playbook) -> Card:
    """The record-first card once every value is in: read-only, the values shown back."""
    number, total = step_number(leaf, step, case)
    return card(
        [
            heading(f"Before step {number} of {total}: {step.title}"),
            *values_shown((playbook.placeholders[n].label, case.values.get(n, "")) for n in step.record),
            text("Recorded. Continue with the step below.", weight="Bolder", color="Good"),
        ]
    )


def failure_card(leaf: Leaf, step: Step, case: RecoveryCase, alternative: Step | None, error: str = "") -> Card:
    """After 'It failed': paste the error, then try again, take the documented alternative, or escalate.
    Nothing is marked failed until one is chosen."""
    body: list[dict] = [
        heading(f"{_step_title(leaf, step, case)} did not work"),
        text(f"User: {case.upn}", isSubtle=True),
        text(
            "The step stays open until you choose. Paste the error PowerShell printed if you have it "
            "(passwords and tokens are removed), then choose."
        ),
        {
            "type": "Input.Text",
            "id": "error",
            "label": "Error text",
            "isMultiline": True,
            "maxLength": 2000,
            "value": error,
            "placeholder": "The error PowerShell printed",
        },
    ]
    actions = [submit("Try the step again", data(FailureChoice(case.id, step.id, "retry")))]
    if alternative is not None:
        number, _ = step_number(leaf, alternative, case)
        body.append(text(f"Another way: go on at step {number}, {alternative.title}."))
        actions.append(submit(f"Go on at step {number}", data(FailureChoice(case.id, step.id, "alternative"))))
    elif step.on_failure == "support":
        body.append(text("There is no other way past this step: it needs Microsoft Support."))
    else:
        body.append(text("There is no other way past this step: try it again, or escalate."))
    actions.append(submit("Escalate with this error", data(FailureChoice(case.id, step.id, "escalate")), "positive"))
    return card(body, actions)


def paused_card(case: RecoveryCase, why: str) -> Card:
    """The live card of a case the admin moved away from: no buttons, how to come back."""
    come_back = f"Say 'resume {case.id}' to continue it." if case.status != CLOSED else f"Say 'resume {case.id}' to reopen it."
    return card([heading(f"Case {case.id}: {case.upn or 'user not chosen yet'}"), text(why, weight="Bolder"), text(come_back)])


def start_or_continue_card(case: RecoveryCase, where: str) -> Card:
    return card(
        [
            heading("You have a recovery in progress"),
            text(f"Case {case.id} for {case.upn} is open. {where}"),
            text("Continue it, or start a new case? (The open case stays open; 'resume' brings it back.)"),
        ],
        [
            submit(f"Continue {case.id}", data(Command("continue", case.id)), "positive"),
            submit("Start a new case", data(Command("start new"))),
        ],
    )


def choice_made_card(heading_text: str, made: str) -> Card:
    return card([heading(heading_text), text(made, weight="Bolder", color="Good")])


def reopen_card(case: RecoveryCase) -> Card:
    return card(
        [
            heading(f"Case {case.id} was closed"),
            text(f"Case {case.id} for {case.upn or 'no user yet'} was closed ({case.end_reason or 'closed'})."),
            text("Reopen it to carry on where it stopped."),
        ],
        [submit(f"Reopen {case.id}", data(Command("reopen", case.id)), "positive")],
    )


def change_answer_card(case: RecoveryCase, playbook: Playbook, answered: list[str]) -> Card:
    """Which answer to change: each question answered before the plan, with its answer now."""
    body: list[dict] = [heading("Change which answer?"), text(f"Case {case.id} · {case.upn or 'no user yet'}", isSubtle=True)]
    actions = []
    for question_id in answered:
        question = playbook.question(question_id)
        option = question.option(case.answers.get(question_id, "")) if question else None
        if question is None or option is None:
            continue
        body.append(text(f"{question.prompt} — now: {option.label}"))
        actions.append(submit(f"Change: {question.prompt}"[:80], data(ChangeAnswer(case.id, question_id))))
    body.append(text("The plan is worked out again from the new answer, and I say which steps changed.", isSubtle=True))
    return card(body, actions)


def confirm_leaving_card(case: RecoveryCase, heading_text: str, why: str, go: str, go_command: str) -> Card:
    """Asked before closing or putting aside a case that holds recorded values."""
    recorded = [name for name in case.values if name != "upn"]
    held = f" It holds {len(recorded)} recorded value{'s' * (len(recorded) != 1)}." if recorded else ""
    return card(
        [heading(heading_text), text(f"Case {case.id} for {case.upn or 'no user yet'}.{held} {why}")],
        [
            submit(go, data(Command(go_command, case.id)), "destructive" if go_command == "start over confirmed" else None),
            submit("Keep going", data(Command("keep going", case.id)), "positive"),
        ],
    )
