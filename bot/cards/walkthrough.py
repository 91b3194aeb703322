"""The walkthrough's cards: welcome, help, the questions, the plan, each step, the ending,
status and the case list.

Every button's data is a typed click from bot.cards.actions naming what it stands for (the
case, question or step it belongs to), so a click on an old card can be recognised and ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.cards.actions import Answer, Command, Confirm, ReminderAction, SaveValues, StepResult, UpnSubmit, data
from bot.cards.base import (
    Card,
    card,
    clock_time,
    code_block,
    data_loss_warning,
    facts,
    heading,
    open_url,
    short_time,
    small_print,
    submit,
    text,
    values_shown,
)
from bot.diagnostics.apply import source_time
from bot.diagnostics.verify import can_verify
from bot.integrations.graph_findings import suggestion
from bot.playbook import OUTCOMES, Leaf, Playbook, Question, RenderedBlock, Step, render_blocks, render_text
from bot.walkthrough.case import CLOSED, COMPLETE, ESCALATED, NEEDS_SUPPORT, OPEN, CaseSummary, RecoveryCase
from bot.walkthrough.deadlines import day_month, finish_before
from bot.walkthrough.rules import (
    answered_before_plan,
    check_every,
    collected_at,
    current_step,
    expected_step_count,
    may_apply,
    pending_question,
    question_number,
    step_number,
)

OUTCOME_HEADLINES = {
    "self_service": "Recoverable: the mailbox content can be recovered by following the steps.",
    "support": "Support needed: this scenario needs Microsoft Support.",
    "nothing": "Nothing to recover: the user and mailbox are both there.",
    "new_mailbox": "New empty mailbox: the user gets a new mailbox; the old data cannot be recovered here.",
}
STATUS_WORDS = {"done": "done", "skipped": "skipped", "failed": "failed (followed its failure path)", "stuck": "failed"}
CASE_STATES = {
    OPEN: "in progress",
    COMPLETE: "complete",
    NEEDS_SUPPORT: "needs support",
    ESCALATED: "escalated to support",
    CLOSED: "closed",
}
YOU_ARE_HERE = "you are here"


def case_state(case: RecoveryCase | CaseSummary) -> str:
    return CASE_STATES.get(case.status, case.status.replace("_", " "))


def for_support(leaf: Leaf) -> dict:
    """The route's id (A1..C9, R1, L1, AUX), in small print: what support looks a case up by."""
    return small_print(f"For support: route {leaf.id}")


def command_button(title: str, command: str, case_id: str | None = None, style: str | None = None) -> dict:
    return submit(title, data(Command(command, case_id)), style)


def escalate_button(case_id: str, title: str = "Escalate", style: str | None = None) -> dict:
    return command_button(title, "escalate", case_id, style)


def commands_section(blocks: list[RenderedBlock], playbook: Playbook) -> list[dict]:
    """Each block: its condition ("run one or the other"), where it runs, a retired banner only
    when it uses a retired cmdlet, then the commands."""
    items = []
    for block in blocks:
        if block.condition:
            items.append(text(block.condition, weight="Bolder"))
        items.append(text(f"Runs in: {block.where}", isSubtle=True, size="Small"))
        if block.retired:
            items.append(text("Retired commands. " + playbook.retired_note, isSubtle=True, size="Small", color="Warning"))
        items.append(code_block(block.text))
    return items


# --- welcome, help --------------------------------------------------------------------------


def welcome_card(playbook: Playbook, open_cases: list[CaseSummary]) -> Card:
    body = [
        heading("Mailbox recovery for Exchange Online"),
        text(
            "I walk you through recovering a user's mailbox: I ask which user, what state their on-premises "
            "account, Entra ID account and Exchange Online mailbox are in, then give you the exact PowerShell "
            f"steps for that case. Typical time: {playbook.estimated_time}."
        ),
        text(
            "I never run anything in your tenant and I never ask for a password: you run the commands, "
            "and any password is typed into PowerShell's own prompt.",
            isSubtle=True,
        ),
    ]
    actions = [command_button("Start a recovery", "start", style="positive")]
    if open_cases:
        body.append(text(f"You have {len(open_cases)} recovery case(s) in progress.", weight="Bolder"))
        body.append(
            facts((c.id, f"{c.upn or 'user not chosen yet'} (updated {short_time(c.updated_at)})") for c in open_cases[:5])
        )
        actions.append(command_button("Resume", "resume"))
    actions.append(command_button("Help", "help"))
    return card(body, actions)


def help_card(commands: Iterable[tuple[str, str]]) -> Card:
    """What the admin can say: the command registry's help lines (dialogs.commands)."""
    return card(
        [
            heading("What you can say"),
            facts(commands),
            text("Answer a question with its button, its number or its label. Everything works typed or clicked.", isSubtle=True),
        ]
    )


# --- questions ------------------------------------------------------------------------------


def upn_card(case_id: str) -> Card:
    return card(
        [
            heading("Which user's mailbox are we recovering?"),
            text("Type their user principal name (UPN), for example jane.doe@contoso.com."),
            {
                "type": "Input.Text",
                "id": "upn",
                "placeholder": "user@contoso.com",
                "style": "Email",
                "label": "User principal name",
                "maxLength": 113,
            },
        ],
        [submit("Next", data(UpnSubmit(case_id)), "positive")],
    )


def check_procedure_card(question: Question, playbook: Playbook, values: Mapping[str, str], dialect: str) -> Card:
    body: list[dict] = [text(f"How to check: {question.prompt}", weight="Bolder")]
    for number, check in enumerate(question.check, start=1):
        body.append(text(f"{number}. {check.text}"))
        body.extend(commands_section(render_blocks(check.blocks, dialect, playbook, values), playbook))
    return card(body)


def question_card(
    question: Question, case: RecoveryCase, playbook: Playbook, answered: str | None = None, tone: str = "Good"
) -> Card:
    """A scoping or sub-question; `answered` is the chosen option's label once answered (no buttons),
    in `tone` (an Adaptive Card text colour: Good for an answer, Default for a card moved below)."""
    number, total = question_number(case, playbook, question.id)
    title = f"Question {number} of {total}: {question.prompt}" if number else question.prompt
    body: list[dict] = [heading(title), text(f"User: {case.upn}", isSubtle=True)]
    if question.help:
        body.append(text(question.help, isSubtle=True, size="Small"))
    if answered is not None:
        body.append(text(answered if tone == "Default" else f"Answer: {answered}", weight="Bolder", color=tone))
        return card(body)
    suggested, why = suggestion(question.id, case.graph)
    if why:
        body.append(text(why, color="Accent", size="Small"))
    body.append(facts((f"{i}. {o.label}", o.meaning) for i, o in enumerate(question.options, start=1)))
    # What Graph found comes first, to confirm; every option stays available.
    actions = [
        submit(f"Confirm: {o.label}", data(Answer(case.id, question.id, o.id, "graph")), "positive")
        for o in question.options
        if o.id == suggested
    ]
    actions += [submit(o.label, data(Answer(case.id, question.id, o.id))) for o in question.options if o.id != suggested]
    if any(q != question.id for q in answered_before_plan(case, playbook)):
        actions.append(command_button("Change an answer", "change answer", case.id))
    if question.check:  # in the body: it opens above the answer buttons, which stay in view below it
        how = {
            "type": "Action.ShowCard",
            "title": "How do I check?",
            "card": check_procedure_card(question, playbook, case.values, case.dialect),
        }
        body.append({"type": "ActionSet", "actions": [how]})
    return card(body, actions)


# --- plan, steps ----------------------------------------------------------------------------


def minutes_words(minutes: int) -> str:
    """'45 minutes', '3 hours', '1 hour 30 minutes': one way of saying a time everywhere."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest} minute{'s' * (rest != 1)}"
    said = f"{hours} hour{'s' * (hours != 1)}"
    return f"{said} {rest} minute{'s' * (rest != 1)}" if rest else said


def steps_said(leaf: Leaf, case: RecoveryCase, total: int) -> str:
    """How many steps: the longest route, and why the list below is longer while an answer to come
    decides between routes (each listed step says which answer it needs)."""
    listed = sum(1 for s in leaf.steps if may_apply(s, case))
    return str(total) if listed == total else f"{total} (the list shows the steps of every route an answer to come may take)"


def plan_time(leaf: Leaf, case: RecoveryCase, playbook: Playbook) -> tuple[str, str]:
    """The plan's one statement of time: the waits of the steps that may apply, added up (the
    playbook's own estimate only where nothing waits)."""
    waiting = sum(s.wait_minutes for s in leaf.steps if may_apply(s, case))
    if not waiting:
        return ("Time", leaf.duration or playbook.estimated_time)
    return ("Waiting", f"up to {minutes_words(waiting)} in all (replication, restores), besides running the commands")


def wait_line(step: Step) -> str:
    """The step's wait, said once: how long at most, how often to look, how to know it is done."""
    every = check_every(step) if step.ask else 0
    often = f", checking every {minutes_words(every)}" if every and every < step.wait_minutes else ""
    return f"Wait: up to {minutes_words(step.wait_minutes)}{often}. {step.wait_check}".strip()


def deadline_lines(case: RecoveryCase, now: datetime | None) -> list[dict]:
    """'Finish before 12 December (17 days left): ...' where a deadline is known (bot.walkthrough.deadlines)."""
    line = finish_before(case, now or datetime.now(UTC))
    return [text(line, color="Attention", weight="Bolder")] if line else []


def plan_card(leaf: Leaf, case: RecoveryCase, playbook: Playbook, now: datetime | None = None) -> Card:
    warnings = [s for s in leaf.steps if s.destructive and may_apply(s, case)]
    total = expected_step_count(case, leaf)
    loses_data = leaf.outcome == "new_mailbox"
    headline = OUTCOME_HEADLINES[leaf.outcome]
    body = [heading("Your recovery plan")]
    if loses_data:
        body.append(data_loss_warning(headline))
    else:
        color = {"self_service": "Good", "support": "Attention", "nothing": "Good"}[leaf.outcome]
        body.append(text(headline, weight="Bolder", color=color))
    body += [
        text(leaf.summary),
        *deadline_lines(case, now),
        facts([("User", case.upn or ""), ("Steps", steps_said(leaf, case, total)), plan_time(leaf, case, playbook)]),
    ]
    body.extend(data_loss_warning(f"Warning ({step.title}): {step.warning}") for step in warnings)
    route = route_rows(leaf, case, playbook)
    if route:
        body.append(text("The steps", weight="Bolder"))
        body.append(facts(route))
    if leaf.source == "added":
        body.append(
            text(
                "Microsoft's guided walkthrough stops short here; these steps come from Microsoft's documentation.",
                isSubtle=True,
                size="Small",
            )
        )
    if leaf.outcome == "support":
        body.append(text("What support will need:", weight="Bolder"))
        body.extend(text(f"- {need}") for need in (*leaf.support_needs, *playbook.support_always))
    body.append(for_support(leaf))
    actions = [command_button("Change an answer", "change answer", case.id)]
    if leaf.outcome == "support":
        actions.append(escalate_button(case.id, "Escalate to support now"))
    return card(body, actions)


def route_rows(leaf: Leaf, case: RecoveryCase, playbook: Playbook) -> list[tuple[str, str]]:
    """Every step still on the route, numbered as its card will be: its title, its wait, and the
    answer it depends on when that answer is still to come."""
    rows = []
    said_at: dict[str, int] = {}  # each condition said once, then referred to by its first step
    for number, step in enumerate((s for s in leaf.steps if may_apply(s, case)), start=1):
        parts = [step.title]
        if step.wait_minutes:
            parts.append(f"wait up to {minutes_words(step.wait_minutes)}")
        for sub, value in step.when.items():
            if sub not in case.answers:
                question = playbook.subquestions[sub]
                option = question.option(value)
                condition = f"only if the answer to '{question.prompt}' is {option.label if option else value}"
                parts.append(f"same condition as step {said_at[condition]}" if condition in said_at else condition)
                said_at.setdefault(condition, number)
        rows.append((f"{number}.", " · ".join(parts)))
    return rows


def _record_inputs(step: Step, names: Iterable[str], playbook: Playbook, case: RecoveryCase) -> list[dict]:
    inputs = []
    for name in names:
        placeholder = playbook.placeholders[name]
        field_: dict[str, Any] = {
            "type": "Input.Text",
            "id": f"value.{name}",
            "label": placeholder.label[:1].upper() + placeholder.label[1:],
            "maxLength": 256,
        }
        if name in case.values:
            field_["value"] = case.values[name]
            read_at = clock_time(case.value_sources.get(name), case.time_zone) if source_time(case, name) else ""
            if read_at:  # filled in from a pasted diagnostic: said, and still editable
                field_["label"] += f" (from your diagnostic at {read_at})"
        inputs.append(field_)
    return inputs


def step_commands(leaf: Leaf, step: Step, case: RecoveryCase, playbook: Playbook) -> list[RenderedBlock]:
    """The step's command blocks with every value known so far (the one place cards render them)."""
    number, _ = step_number(leaf, step, case)
    # "<ExchangeGuid from step 2>"; a value this very step reads stays a plain hint.
    hints = {name: at for name, at in collected_at(case, leaf).items() if at != number}
    return render_blocks(step.blocks, case.dialect, playbook, case.values, hints)


def fills_itself(step: Step, case: RecoveryCase) -> bool:
    """True when the step's own later commands use a value it asks for (Get, then Restore by its Id)."""
    return any("{" + name + "}" in step.commands.get(case.dialect, "") for name in step.collect)


def step_card(
    leaf: Leaf,
    step: Step,
    case: RecoveryCase,
    playbook: Playbook,
    answered: str | None = None,
    note: str = "",
    now: datetime | None = None,
    tone: str = "Good",
    waiting: timedelta | None = None,
) -> Card:
    """A step to do. `waiting`: what is left of the step's own wait; until it is over the answers
    that give up are not offered, 'Not yet — remind me' is."""
    number, total = step_number(leaf, step, case)
    blocks = step_commands(leaf, step, case, playbook)
    body: list[dict] = [
        heading(f"Step {number} of {total}: {step.title}"),
        text(f"User: {case.upn}", isSubtle=True),
    ]
    if answered is None:
        body.extend(deadline_lines(case, now))
    if note:
        body.append(text(note, color="Attention"))
    body.append(text(step.why))
    if step.destructive:
        body.append(data_loss_warning(f"Warning: {step.warning}"))
    if step.admin_center:  # the simplest way first; the PowerShell stays as the alternative
        body.append(text(f"Simplest: {step.admin_center}", weight="Bolder"))
        body.append(text("Or with PowerShell:", isSubtle=True))
    body.extend(commands_section(blocks, playbook))
    if step.look_for:
        body.append(text(f"What to look for: {render_text(step.look_for, playbook, case.values)}"))
    if step.wait_minutes:
        body.append(text(wait_line(step), color="Accent"))
    if waiting is not None and answered is None:
        left = max(1, round(waiting.total_seconds() / 60))
        body.append(
            text(f"The wait is not over: about {minutes_words(left)} left. Not there yet? Say 'not yet'.", weight="Bolder")
        )
    if answered is not None:
        body.append(text(answered, weight="Bolder", color=tone))
        return card(body)
    body.extend(_record_inputs(step, step.collect, playbook, case))
    # The primary button is what the admin should press next: save while a value the commands
    # need is still missing, Done once every value is in.
    unfilled = fills_itself(step, case) and any(not case.values.get(n) for n in step.collect)
    done_style, save_style = (None, "positive") if unfilled else ("positive", None)
    actions = []
    if step.ask:
        question = playbook.subquestions[step.ask]
        body.append(text(f"When done: {question.prompt}", weight="Bolder"))
        if case.scoping == "diagnostic" and can_verify(step.ask):
            body.append(text("Or paste the diagnostic's output again: I check the result myself.", isSubtle=True))
        options = [o for o in question.options if waiting is None or not o.end]
        actions += [
            submit(f"Done: {o.label}", data(StepResult(case.id, step.id, "done", o.id)), None if o.end else done_style)
            for o in options
        ]
        if waiting is not None:
            every = check_every(step)
            actions.append(
                submit(f"Not yet — remind me in {minutes_words(every)}", data(ReminderAction(case.id, "not_yet", every)))
            )
    else:
        actions.append(submit("Done", data(StepResult(case.id, step.id, "done")), done_style))
    if fills_itself(step, case):
        actions.append(submit("Save and fill in the commands", data(SaveValues(case.id, step.id)), save_style))
    # Not louder than Done: a failure is a path to choose with care, not the main action.
    actions.append(submit("It failed", data(StepResult(case.id, step.id, "failed"))))
    actions.append(escalate_button(case.id))
    return card(body, actions)


def confirm_card(
    leaf: Leaf,
    step: Step,
    case: RecoveryCase,
    playbook: Playbook,
    answered: str | None = None,
    note: str = "",
    tone: str = "Good",
) -> Card:
    """Before a destructive step: record what is needed to undo it, and say so (`note`: what is missing)."""
    number, total = step_number(leaf, step, case)
    names = ", ".join(playbook.placeholders[n].label for n in step.record)
    body = [
        heading(f"Before step {number} of {total}: {step.title}"),
        data_loss_warning(f"Warning: {step.warning}"),
        text(f"Record first: {names}. If anything goes wrong, these are what you (or support) restore from."),
    ]
    if note:
        body.append(text(note, color="Attention", weight="Bolder"))
    known = [(playbook.placeholders[n].label, case.values[n]) for n in step.record if n in case.values]
    if known:
        body.extend(values_shown(known))
    if answered is not None:
        body.append(text(answered, weight="Bolder", color=tone))
        return card(body)
    body.extend(_record_inputs(step, step.record, playbook, case))
    return card(
        body,
        [
            submit("I have recorded them", data(Confirm(case.id, step.id)), "positive"),
            escalate_button(case.id, "Escalate instead"),
        ],
    )


def ending_card(leaf: Leaf, case: RecoveryCase, playbook: Playbook) -> Card:
    if case.status == COMPLETE:
        body = [heading(playbook.complete_text), text(f"User: {case.upn} · case {case.id}", isSubtle=True)]
        done = [r.at for r in case.steps.values() if r.status == "done"]
        if done:  # what was confirmed, and when: a verified ending, not a congratulation
            body.append(text(f"{len(done)} steps confirmed done, the last at {clock_time(max(done), case.time_zone)}."))
        if leaf.outcome == "nothing":
            body.append(text("Nothing needed recovering."))
        if case.end_reason:
            body.append(text(case.end_reason))
        if leaf.verify:
            body.append(text(f"Verify: {leaf.verify}", weight="Bolder"))
        body.append(text("Additional resources", weight="Bolder"))
        body.extend(text(f"- {r}") for r in playbook.resources)
        links = [open_url(link.title, link.url) for link in playbook.links]
        return card(body, [*links, command_button("Start another recovery", "start")])
    body = [heading("This case needs Microsoft Support"), text(f"User: {case.upn} · case {case.id}", isSubtle=True)]
    if case.end_reason:
        body.append(text(case.end_reason, color="Attention"))
    body.append(text("What support will need:", weight="Bolder"))
    body.extend(text(f"- {need}") for need in (*leaf.support_needs, *playbook.support_always))
    return card(
        body,
        [
            escalate_button(case.id, "Escalate to support", "positive"),
            command_button("Start another recovery", "start"),
        ],
    )


# --- status, cases --------------------------------------------------------------------------


def subject_of(question: Question) -> str:
    """'Entra ID (Azure AD) account' from 'What is the current state of the user's Entra ID (Azure AD)
    account?': the names keep their capitals."""
    subject = question.prompt.split(" the user's ")[-1].rstrip("?")
    return subject[:1].upper() + subject[1:]


def where_in_questions(case: RecoveryCase, playbook: Playbook) -> str | None:
    """The question the admin is at, or None once the questions are answered."""
    pending = pending_question(case, playbook) if case.is_open else None
    if pending is None:
        return None
    if pending == "upn":
        return "which user's mailbox to recover"
    number, total = question_number(case, playbook, pending)
    question = playbook.question(pending)
    assert question is not None  # pending_question names only the playbook's own questions
    return f"question {number} of {total}: {question.prompt}"


def status_card(case: RecoveryCase, playbook: Playbook, now: datetime | None = None) -> Card:
    leaf = playbook.leaves.get(case.leaf_id or "")
    rows = [
        ("Case", case.id),
        ("User", case.upn or "not chosen yet"),
        ("State", case_state(case)),
        ("Commands", "modern" if case.dialect == "modern" else "original (retired)"),
    ]
    for question in playbook.questions:
        option = question.option(case.answers.get(question.id, ""))
        source = " (confirmed from Microsoft Graph)" if case.answered_by.get(question.id) == "graph" else ""
        rows.append((subject_of(question), option.label + source if option else "not answered"))
    for sub, value in case.answers.items():
        subquestion = playbook.subquestions.get(sub)
        if subquestion:
            option = subquestion.option(value)
            rows.append((subquestion.prompt, option.label if option else value))
    body = [heading(f"Status of case {case.id}"), *(deadline_lines(case, now) if case.is_open else []), facts(rows)]
    asking = where_in_questions(case, playbook)
    if asking:
        body.append(text(f"You are here: {asking}", weight="Bolder", color="Accent"))
    if leaf:
        body.append(text(f"Plan: {OUTCOMES[leaf.outcome]}"))
        here = current_step(case, leaf) if case.is_open and not asking else None
        shown = [s for s in leaf.steps if s.applies(case.answers) or s.id in case.steps]
        step_rows = []
        for number, step in enumerate(shown, start=1):
            record = case.steps.get(step.id)
            if step is here:
                state = YOU_ARE_HERE
            else:
                state = f"{STATUS_WORDS[record.status]} {short_time(record.at)}" if record else "to do"
            step_rows.append((f"{number}. {step.title}", state))
        body.append(facts(step_rows))
        body.append(for_support(leaf))
    return card(body)


CASES_SHOWN = 5  # rows in `cases`; `cases all` lists every one


def cases_card(cases: list[CaseSummary], current_id: str | None, everything: bool = False) -> Card:
    """The admin's cases, each row with its own button (resume an open one, the status of any)."""
    if not cases:
        return card([text("You have no recovery cases yet.")], [command_button("Start a recovery", "start")])
    shown = cases if everything else cases[:CASES_SHOWN]
    counted = f"{len(shown)} of {len(cases)}: say 'cases all' for every one" if len(shown) < len(cases) else f"{len(cases)}"
    body: list[dict] = [heading(f"Your recovery cases ({counted})")]
    for case in shown:
        marker = " (current)" if case.id == current_id else ""
        upn = case.upn or "user not chosen"
        due = f" · finish before {day_month(datetime.fromisoformat(case.deadline))}" if case.deadline and case.is_open else ""
        body.append(text(f"{case.id}{marker}: {upn} · {case_state(case)}{due} · updated {short_time(case.updated_at)}"))
        button = (
            command_button(f"Resume {case.id}", "resume", case.id)
            if case.is_open and case.id != current_id
            else command_button(f"Status of {case.id}", "status", case.id)
        )
        body.append({"type": "ActionSet", "actions": [button]})
    return card(body)
