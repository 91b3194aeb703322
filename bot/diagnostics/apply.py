"""What confirming the "What I read" card does to a case: the answers, sub-answers, values and
deadlines the evidence settled are recorded, each marked as coming from the diagnostic."""

from __future__ import annotations

from typing import Any

from bot.diagnostics.assess import Assessment
from bot.diagnostics.reading import PLACE_NAMES, parse_time
from bot.walkthrough.case import RecoveryCase

BY = "diagnostic"  # answered_by for an answer the evidence gave


def source_time(case: RecoveryCase, name: str) -> str:
    """'14:02' for a value read from a diagnostic, '' for one the admin typed."""
    moment = parse_time(case.value_sources.get(name), "read_at") if case.value_sources.get(name) else None
    return f"{moment:%H:%M}" if moment else ""


def apply(case: RecoveryCase, assessment: Assessment, playbook: Any, mail_for: str | None = None) -> list[str]:
    """Record what the evidence settled on the case; returns what was applied, for the transcript.
    Nothing is applied while a choice between mailboxes is open; a disputed answer is not in the
    assessment's answers, so its question is asked as before."""
    applied: list[str] = []
    if assessment.candidates:
        return applied
    for question, option in assessment.answers.items():
        if playbook.question(question) is not None and playbook.question(question).option(option) is not None:
            case.answers[question] = option
            case.answered_by[question] = BY
            applied.append(f"{question} = {option}")
    case.situation = assessment.situation if assessment.leaf_id and assessment.situation else None
    for question, option in assessment.sub_answers.items():
        sub = playbook.subquestions.get(question)
        if sub is not None and sub.option(option) is not None and not sub.option(option).end:
            case.answers[question] = option
            case.answered_by[question] = BY
            applied.append(f"{question} = {option}")
    if mail_for and "mail_for" in playbook.subquestions and playbook.subquestions["mail_for"].option(mail_for):
        case.answers["mail_for"] = mail_for
        case.answered_by["mail_for"] = "admin"
    read_at = {place: (case.evidence.get(place) or {}).get("read_at", "") for place in PLACE_NAMES}
    for name, value in assessment.values.items():
        if case.values.get(name) != value:
            case.values[name] = value
            case.value_sources[name] = read_at.get(assessment.value_sources.get(name, ""), "")
            applied.append(f"{name} from the {PLACE_NAMES.get(assessment.value_sources.get(name, ''), 'diagnostic')} diagnostic")
    for kind, start in assessment.deadline_starts.items():
        case.deadline_starts[kind] = start
        if kind not in case.deadline_asked:
            case.deadline_asked.append(kind)  # known exactly: the date card is not asked
    leaf_finder = getattr(playbook, "leaf_for_situation", None)
    leaf = leaf_finder(case.situation) if case.situation and leaf_finder else playbook.leaf_for(case.answers)
    case.leaf_id = leaf.id if leaf is not None else None
    case.scoping = "diagnostic"
    case.touch()
    return applied
