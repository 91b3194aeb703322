"""The diagnostics' cards (issue 22): the scripts to run and paste back, "What I read", a
recognised error. Anything read from a paste is shown through `as_written` (a TextRun, never
Markdown) after `shown` has removed control and format characters (bidi overrides, zero-width)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.cards.actions import DiagnosticAction, data
from bot.cards.base import Card, as_written, card, code_block, heading, small_print, submit, text
from bot.diagnostics.assess import Assessment
from bot.diagnostics.errors import CatalogEntry
from bot.diagnostics.reading import PLACE_NAMES, Problem, shown
from bot.diagnostics.scripts import Scripts, render_script
from bot.playbook import Playbook
from bot.walkthrough.case import RecoveryCase

QUESTIONS_INSTEAD = "I'd rather answer the questions"
NOT_RIGHT = "That's not right"


def _questions_button(case_id: str) -> dict:
    return submit(QUESTIONS_INSTEAD, data(DiagnosticAction(case_id, "questions")))


def diagnostic_card(case: RecoveryCase, playbook: Playbook, scripts: Scripts, places: Iterable[str] | None = None) -> Card:
    """The scripts to run, one per place, with the case's UPN in them; `places` limits it to the
    ones still missing (None: all three)."""
    wanted = list(places) if places is not None else list(scripts.places)
    body: list[dict] = [
        heading("Let me read the state for you"),
        text(f"User: {case.upn}", isSubtle=True),
        text(
            "Run each script below where it says, and paste everything it prints here (the whole window is fine, "
            "several at once too). The scripts only read: they change nothing in your tenant. I then tell you what I "
            "read and which recovery fits."
        ),
    ]
    for script in scripts.ordered():
        if script.place not in wanted:
            continue
        body.append(
            text(
                script.title + (" (only if the user is synchronized from AD)" if script.only_when_synced else ""), weight="Bolder"
            )
        )
        body.append(text(f"Runs in: {script.where}. {script.before}", isSubtle=True, size="Small"))
        body.append(text(script.why, size="Small"))
        body.append(code_block(render_script(script, playbook, case.upn or "")))
    body.append(small_print(f"Each script prints one line that starts with {scripts.marker}."))
    return card(body, [_questions_button(case.id)])


def _fact(subject: str, state: str, source: str) -> dict:
    inlines = [{"type": "TextRun", "text": f"{subject}: ", "weight": "Bolder"}]
    if state:
        inlines.append({"type": "TextRun", "text": f"{state}. "})
    inlines.append({"type": "TextRun", "text": shown(source, 400)})
    return {"type": "RichTextBlock", "inlines": inlines}


def problems_text(problems: Iterable[Problem]) -> str:
    return " ".join(p.message for p in problems)


def reading_card(
    case: RecoveryCase,
    assessment: Assessment,
    playbook: Playbook,
    *,
    read_now: Iterable[str] = (),
    problems: Iterable[Problem] = (),
    notes: Iterable[str] = (),
    answered: str | None = None,
) -> Card:
    """'What I read': each state and the fact it came from, the scenario it implies, what is still
    missing, and Confirm / That's not right. `answered`: the card as it stays once answered."""
    body: list[dict] = [heading("What I read"), text(f"User: {case.upn}", isSubtle=True)]
    read_now = list(read_now)
    if read_now:
        body.append(text("Read just now: " + ", ".join(PLACE_NAMES[p] for p in read_now) + ".", size="Small", isSubtle=True))
    for problem in problems:
        body.append(as_written(shown(problem.message, 400), color="Attention"))
    body.extend(_fact(f.subject, f.state, f.source) for f in assessment.facts)
    for line in assessment.not_checked:
        body.append(as_written("Not checked (an error, not an answer): " + shown(line, 300), color="Attention"))
    for line in [*notes, *assessment.notes]:
        body.append(as_written(shown(line, 300), isSubtle=True))
    for disagreement in assessment.disagreements:
        body.append(as_written(shown(disagreement, 300), color="Attention", weight="Bolder"))
    if assessment.disagreements:
        body.append(text("They disagree: I will ask you that question, with both findings beside it.", color="Attention"))
    leaf = playbook.leaves.get(assessment.leaf_id or "") if assessment.leaf_id else None
    if leaf is None and assessment.leaf_id:
        leaf = getattr(playbook, "leaf_for_situation", lambda _s: None)(assessment.situation or "")
    if leaf is not None:
        summary = getattr(leaf, "summary", "")
        body.append(text("What this means", weight="Bolder"))
        if summary:
            body.append(text(summary))
        body.append(small_print(f"For support: route {leaf.id}"))
    missing = [PLACE_NAMES[p] for p in assessment.missing]
    if missing:
        body.append(
            text(f"Still missing: the {' and the '.join(missing)} diagnostic. Paste it here when you have it.", weight="Bolder")
        )
    if answered is not None:
        body.append(text(answered, weight="Bolder", color="Good"))
        return card(body)
    actions: list[dict] = []
    if assessment.candidates:
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "exchange_guid",
                "label": "Several soft-deleted mailboxes have this address. Which one do you want back?",
                "style": "expanded",
                "isRequired": True,
                "errorMessage": "Choose a mailbox.",
                "choices": [{"title": shown(c.label(), 200), "value": c.exchange_guid} for c in assessment.candidates],
            }
        )
    ready = assessment.leaf_id is not None and not assessment.disagreements
    if ready and "mail_for" in playbook.subquestions and "mail_for" not in case.answers:
        question = playbook.subquestions["mail_for"]
        body.append(
            {
                "type": "Input.ChoiceSet",
                "id": "mail_for",
                "label": question.prompt,
                "style": "expanded",
                "choices": [{"title": o.label, "value": o.id} for o in question.options],
            }
        )
    if ready or assessment.candidates:
        actions.append(submit("Confirm", data(DiagnosticAction(case.id, "confirm")), "positive"))
        actions.append(submit(NOT_RIGHT, data(DiagnosticAction(case.id, "wrong"))))
    elif assessment.disagreements:
        actions.append(submit("Go on with the questions", data(DiagnosticAction(case.id, "confirm")), "positive"))
    else:
        actions.append(_questions_button(case.id))
    return card(body, actions)


def error_card(entry: CatalogEntry, case_id: str | None = None) -> Card:
    """A pasted error the catalog knows: what it means and what to do (shown as written)."""
    body: list[dict[str, Any]] = [
        heading("I recognise this error"),
        as_written(entry.meaning),
        text("What to do", weight="Bolder"),
        as_written(entry.action),
        small_print(f"For support: error {entry.id}"),
    ]
    if entry.wait_minutes:
        body.append(text(f"Say 'remind me in {entry.wait_minutes} minutes' and I come back to this case then.", color="Accent"))
    return card(body)
