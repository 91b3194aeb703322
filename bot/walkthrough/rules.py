"""Where a case stands in the playbook and how it moves on. Pure functions of case + playbook.

The dialogs ask; this module decides what is asked next, which step is current, and what an
answer, a Done or a failure does to the case.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.playbook import Leaf, Playbook, Question, Step, validate
from bot.playbook.model import Placeholder
from bot.playbook.values import InvalidValue
from bot.support.redaction import redact
from bot.walkthrough.case import COMPLETE, NEEDS_SUPPORT, OPEN, RecoveryCase, StepRecord, now_iso

UPN = "upn"  # the first thing asked: not a playbook question, the target of every command
PASSED = ("done", "skipped", "failed")


def leaf_of(case: RecoveryCase, playbook: Playbook) -> Leaf | None:
    """The case's leaf: the situation's when the evidence showed one the three answers miss."""
    if case.situation:
        finder = getattr(playbook, "leaf_for_situation", None)
        leaf = finder(case.situation) if finder else None
        if leaf is not None:
            return leaf
    return playbook.leaf_for(case.answers)


def pending_question(case: RecoveryCase, playbook: Playbook) -> str | None:
    """Id of the next question to ask before the steps ("upn" first), or None when all are in."""
    if not case.upn:
        return UPN
    situation_leaf = leaf_of(case, playbook) if case.situation else None
    for question in playbook.questions if situation_leaf is None else ():
        if question.id not in case.answers:
            return question.id
    leaf = leaf_of(case, playbook)
    for sub in leaf.ask_first if leaf else ():
        if sub not in case.answers:
            return sub
    return None


def set_upn(case: RecoveryCase, raw: str) -> str:
    """Validate and store the target UPN; raises InvalidValue with a reason."""
    upn = validate("upn", raw, "UPN")
    case.upn = upn
    case.values["upn"] = upn
    case.touch()
    return upn


def answer(case: RecoveryCase, playbook: Playbook, question: Question, option_id: str, by: str = "admin") -> None:
    if question.option(option_id) is None:
        raise InvalidValue(f"'{option_id}' is not an answer to that question.")
    case.answers[question.id] = option_id
    case.answered_by[question.id] = by
    leaf = leaf_of(case, playbook)
    case.leaf_id = leaf.id if leaf else None
    case.touch()


def applicable_steps(case: RecoveryCase, leaf: Leaf) -> list[Step]:
    return [s for s in leaf.steps if s.applies(case.answers)]


def current_step(case: RecoveryCase, leaf: Leaf) -> Step | None:
    for step in leaf.steps:
        if not step.applies(case.answers):
            continue
        record = case.steps.get(step.id)
        if record is None or record.status not in PASSED:
            return step
    return None


def step_number(leaf: Leaf, step: Step, case: RecoveryCase) -> tuple[int, str]:
    """(position among the steps done or to do, total as shown): 'Step 3 of 8', or 'of up to 8'
    while an answer still to come decides between branches of different lengths."""
    steps = [s for s in leaf.steps if may_apply(s, case)]
    total = expected_step_count(case, leaf)
    exact = not any(q not in case.answers for s in leaf.steps for q in s.when)
    return steps.index(step) + 1 if step in steps else 0, str(total) if exact else f"up to {total}"


def question_number(case: RecoveryCase, playbook: Playbook, question_id: str) -> tuple[int, str]:
    """(position, total as shown) of a question asked before the plan, sub-questions counted:
    'Question 4 of 4', or 'of up to 4' while the scenario that decides the sub-questions is open.
    Position 0: not a question asked before the plan."""
    scoping = [q.id for q in playbook.questions]
    leaf = leaf_of(case, playbook)
    if leaf is not None:
        asked = scoping + list(leaf.ask_first)
        return (asked.index(question_id) + 1 if question_id in asked else 0), str(len(asked))
    possible = [
        other
        for other in playbook.leaves.values()
        if all(case.answers.get(q, a) == a for q, a in other.answers.items() if q in scoping)
    ]
    most = len(scoping) + max((len(other.ask_first) for other in possible), default=0)
    position = scoping.index(question_id) + 1 if question_id in scoping else 0
    return position, str(most) if most == len(scoping) else f"up to {most}"


def may_apply(step: Step, case: RecoveryCase) -> bool:
    return all(case.answers.get(q, v) == v for q, v in step.when.items())


def collected_at(case: RecoveryCase, leaf: Leaf) -> dict[str, int]:
    """Placeholder -> the step number (as the admin sees it) that reads that value."""
    found: dict[str, int] = {}
    for number, step in enumerate((s for s in leaf.steps if may_apply(s, case)), start=1):
        for name in step.collect:
            found.setdefault(name, number)
    return found


def expected_step_count(case: RecoveryCase, leaf: Leaf) -> int:
    """Steps on the longest path still possible given the answers so far."""
    unknown = sorted({q for s in leaf.steps for q in s.when if q not in case.answers})
    if not unknown:
        return len(applicable_steps(case, leaf))
    choices = [sorted({s.when[q] for s in leaf.steps if q in s.when}) for q in unknown]
    best = 0
    for combo in itertools.product(*choices):
        answers = {**case.answers, **dict(zip(unknown, combo, strict=True))}
        best = max(best, sum(1 for s in leaf.steps if s.applies(answers)))
    return best


def total_wait_minutes(leaf: Leaf) -> int:
    return sum(s.wait_minutes for s in leaf.steps)


DEFAULT_CHECK_EVERY = 30  # minutes, for a wait step that does not say how often to look


def check_every(step: Step) -> int:
    """How often to look while a step's wait runs (its own interval, never longer than the wait)."""
    own = getattr(step, "check_every_minutes", 0) or DEFAULT_CHECK_EVERY
    return min(own, step.wait_minutes) if step.wait_minutes else own


def wait_left(case: RecoveryCase, step: Step, now: datetime, scale: float = 1.0) -> timedelta | None:
    """What is left of the wait of a step that asks whether what it waits for has happened (the
    mailbox reconnected, the user is back), counted from when its card was first shown; None
    when the step has no such wait or it is over. Until then a 'no' is 'not yet', not a failure."""
    shown = case.step_shown.get(step.id)
    if not step.wait_minutes or not step.ask or not shown:
        return None
    left = datetime.fromisoformat(shown) + timedelta(minutes=step.wait_minutes * scale) - now
    return left if left > timedelta(0) else None


def gives_up(playbook: Playbook, step: Step, option_id: str | None) -> bool:
    """True for the answer to a step's question that ends the walkthrough in support ('No, still not')."""
    if not step.ask or not option_id:
        return False
    option = playbook.subquestions[step.ask].option(option_id)
    return bool(option and option.end)


@dataclass(frozen=True)
class Progress:
    """What a Done or a failure led to. kind: next | complete | support | stuck."""

    kind: str
    note: str = ""


MAX_VALUE = 256  # no identifier the walkthrough collects is longer


def accept_value(placeholder: Placeholder, value: str) -> str:
    """A value as it may be kept, typed or read from a paste alike: at most MAX_VALUE characters,
    clean to the redaction screen (a password or key is never recorded) and of its placeholder's
    shape; raises InvalidValue saying which."""
    if len(value) > MAX_VALUE:
        raise InvalidValue(f"The {placeholder.label} is {len(value):,} characters long; at most {MAX_VALUE} fit.")
    if redact(value) != value:
        raise InvalidValue(
            f"The {placeholder.label} looks like it holds a password or a secret, so it was not recorded: "
            "paste only the value the step asks for. The bot never needs a password."
        )
    return validate(placeholder.kind, value, placeholder.label)


def record_values(case: RecoveryCase, playbook: Playbook, raw: Mapping[str, str], accepted: Iterable[str]) -> list[str]:
    """Validate and store the values a step collects (`accepted`: its collect or record list);
    returns the problems (the valid ones are kept). Anything else a card submit carries is ignored."""
    problems = []
    accepted = set(accepted)
    for name, value in raw.items():
        if name not in accepted or name not in playbook.placeholders or not isinstance(value, str) or not value.strip():
            continue
        try:
            case.values[name] = accept_value(playbook.placeholders[name], value)
        except InvalidValue as exc:
            problems.append(str(exc))
    case.touch()
    return problems


def ticket_values(case: RecoveryCase, playbook: Playbook) -> dict[str, str]:
    """The recorded values support may see: each of a known placeholder and still acceptable as it
    is kept (accept_value). A value stored before these checks, or planted in a stored case, never
    reaches a ticket."""
    shown = {}
    for name, value in case.values.items():
        placeholder = playbook.placeholders.get(name)
        if placeholder is None or not isinstance(value, str):
            continue
        try:
            shown[name] = accept_value(placeholder, value)
        except InvalidValue:
            continue
    return shown


def complete_step(case: RecoveryCase, playbook: Playbook, leaf: Leaf, step: Step, sub_answer: str | None = None) -> Progress:
    note = ""
    if step.ask:
        question = playbook.subquestions[step.ask]
        option = question.option(sub_answer or "")
        if option is None:
            raise InvalidValue(f"Choose one of: {', '.join(o.label for o in question.options)}.")
        answer(case, playbook, question, option.id)
        note = option.note or ""
        if option.end:
            case.steps[step.id] = StepRecord("done", now_iso())
            return _end(case, NEEDS_SUPPORT, note or "This answer needs Microsoft Support.")
    previous = case.steps.get(step.id)
    case.steps[step.id] = StepRecord("done", now_iso(), previous.failures if previous else 0)
    case.resolved.extend(kind for kind in step.resolves if kind not in case.resolved)  # its warning goes
    case.touch()
    if current_step(case, leaf) is not None:
        return Progress("next", note)
    if leaf.outcome == "support":
        return _end(case, NEEDS_SUPPORT, "The steps are done; this scenario needs Microsoft Support.")
    return _end(case, COMPLETE, note)


def needed_for_done(leaf: Leaf, step: Step) -> tuple[str, ...]:
    """The values Done waits for: all the step collects; where the step can be done in the admin
    center instead, only those a later step's commands use (the admin center needs none)."""
    if not step.admin_center:
        return step.collect
    later = leaf.steps[leaf.index_of(step.id) + 1 :]
    used = "\n".join(text for s in later for text in s.commands.values())
    return tuple(name for name in step.collect if "{" + name + "}" in used)


def missing_values(case: RecoveryCase, playbook: Playbook, names: tuple[str, ...]) -> list[str]:
    """Labels of the values among `names` the case does not hold yet (only valid values are kept)."""
    return [playbook.placeholders[n].label for n in names if not case.values.get(n)]


def alternative_of(leaf: Leaf, step: Step) -> Step | None:
    """The later step the playbook goes on at when this one fails, if it documents one."""
    if step.on_failure and step.on_failure != "support":
        return leaf.step(step.on_failure)
    return None


def fail_step(case: RecoveryCase, leaf: Leaf, step: Step, choice: str = "alternative", error: str = "") -> Progress:
    """Mark a step failed once the admin chose what to do about it: follow the step's documented
    alternative (or its end in support), or escalate ("escalate": no path is followed)."""
    previous = case.steps.get(step.id)
    failures = (previous.failures if previous else 0) + 1
    at = now_iso()
    case.pending_failure = None
    if step.on_failure == "support":
        case.steps[step.id] = StepRecord("failed", at, failures, error)
        return _end(case, NEEDS_SUPPORT, step.failure_note or "This step failed; Microsoft Support is needed.")
    alternative = alternative_of(leaf, step)
    if alternative is not None and choice == "alternative":
        case.steps[step.id] = StepRecord("failed", at, failures, error)
        target = leaf.index_of(alternative.id)
        for skipped in leaf.steps[leaf.index_of(step.id) + 1 : target]:
            case.steps.setdefault(skipped.id, StepRecord("skipped", at))
        case.touch()
        return Progress("next", step.failure_note)
    case.steps[step.id] = StepRecord("stuck", at, failures, error)
    case.touch()
    return Progress("stuck", step.failure_note)


def reopen(case: RecoveryCase, playbook: Playbook) -> None:
    """Open a closed case, or one that ended needing support, where it stopped: an answer that ended
    it in support is taken back (asked again), a step that failed into support is current again."""
    if case.status == NEEDS_SUPPORT:
        leaf = leaf_of(case, playbook)
        for sub in leaf.ask_first if leaf else ():
            option = playbook.subquestions[sub].option(case.answers.get(sub, ""))
            if option is not None and option.end:
                case.answers.pop(sub, None)
        for step in leaf.steps if leaf else ():
            record = case.steps.get(step.id)
            if record is None:
                continue
            ended = step.ask and gives_up(playbook, step, case.answers.get(step.ask))
            if ended or (record.status == "failed" and step.on_failure == "support"):
                del case.steps[step.id]
                if step.ask:
                    case.answers.pop(step.ask, None)
    case.status = OPEN
    case.end_reason = ""
    case.touch()


def answered_before_plan(case: RecoveryCase, playbook: Playbook) -> list[str]:
    """The questions answered before the plan, in the order they were asked."""
    leaf = leaf_of(case, playbook)
    order = [q.id for q in playbook.questions] + list(leaf.ask_first if leaf else ())
    return [q for q in order if q in case.answers]


def plan_titles(case: RecoveryCase, playbook: Playbook) -> list[str]:
    """The titles of the steps the plan lists now (empty before the scenario is known)."""
    leaf = leaf_of(case, playbook)
    return [s.title for s in leaf.steps if may_apply(s, case)] if leaf else []


def take_back(case: RecoveryCase, playbook: Playbook, question_id: str) -> None:
    """Un-answer a question asked before the plan so it is asked again. A scoping answer decides the
    scenario, so the sub-questions answered for the old one go too. Steps already done keep their
    record where the new plan has the same step; the plan before is kept to say what changed."""
    if question_id not in case.answers:
        return
    before = plan_titles(case, playbook)
    scoping = {q.id for q in playbook.questions}
    kept = scoping | set(playbook.ask_every_leaf)  # not tied to one scenario
    # A scoping answer decides the scenario: the sub-questions of the old one go with it.
    gone = [question_id] + ([q for q in case.answers if q not in kept] if question_id in scoping else [])
    for question in gone:
        case.answers.pop(question, None)
        case.answered_by.pop(question, None)
    leaf = leaf_of(case, playbook)
    case.leaf_id = leaf.id if leaf else None
    if before and case.replan is None:
        case.replan = before
    case.touch()


def step_back(case: RecoveryCase, playbook: Playbook) -> Step | None:
    """Reopen the step passed last (and any it skipped to get here): it is current again, with the
    values it recorded. None when no step has been passed yet."""
    leaf = leaf_of(case, playbook)
    passed = [s for s in leaf.steps if s.id in case.steps] if leaf else []
    while passed:
        step = passed.pop()
        record = case.steps.pop(step.id)
        if step.id in case.confirmed:
            case.confirmed.remove(step.id)
        if step.ask:
            case.answers.pop(step.ask, None)
        if record.status != "skipped":
            case.pending_failure = None
            case.touch()
            return step
    return None


def changed_plan(before: list[str], after: list[str]) -> str:
    """What a changed answer did to the plan, in one sentence."""
    added = [t for t in after if t not in before]
    dropped = [t for t in before if t not in after]
    if not added and not dropped:
        return "The plan is the same as before."
    parts = [f"The plan changed: now {len(after)} steps."]
    if added:
        parts.append("New: " + "; ".join(added) + ".")
    if dropped:
        parts.append("No longer needed: " + "; ".join(dropped) + ".")
    return " ".join(parts)


def _end(case: RecoveryCase, status: str, reason: str) -> Progress:
    case.status = status
    case.end_reason = reason
    case.touch()
    return Progress("support" if status == NEEDS_SUPPORT else "complete", reason)
