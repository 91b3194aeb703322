"""Escalation: hand a case to support with its summary and transcript.

Plain logic and cards here; delivery to a support channel goes through a `SupportChannel`
(bot.support_channel) that the app wires in when one is configured. Without one, the admin
gets the summary and transcript in their own chat to forward, and is told so.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from .cards import card, facts, heading, submit, text
from .case import ESCALATED, RecoveryCase, now_iso
from .playbook import OUTCOMES, Playbook
from .transcript import Entry, TranscriptStore, format_transcript, redact

log = logging.getLogger(__name__)
TRANSCRIPT_LINES_PER_CARD = 60
MAX_DESCRIPTION = 2000


class SupportChannel(Protocol):
    async def post_ticket(self, case: RecoveryCase, summary: dict, transcript: list[Entry]) -> dict: ...
    async def add_to_thread(self, case: RecoveryCase, text_: str) -> None: ...


def answer_rows(case: RecoveryCase, playbook: Playbook) -> list[tuple[str, str]]:
    rows = []
    for question_id, option_id in case.answers.items():
        question = playbook.question(question_id)
        option = question.option(option_id) if question else None
        rows.append((question.prompt if question else question_id, option.label if option else option_id))
    return rows


def ticket_summary(
    case: RecoveryCase, playbook: Playbook, admin: dict[str, str], description: str, contact: str
) -> dict[str, Any]:
    """Everything support needs, as plain data (also the handoff event's value)."""
    leaf = playbook.leaves.get(case.leaf_id or "")
    steps = []
    if leaf:
        for step in leaf.steps:
            record = case.steps.get(step.id)
            if record or step.applies(case.answers):
                steps.append(
                    {
                        "id": step.id,
                        "title": step.title,
                        "status": record.status if record else "not done",
                        "at": record.at if record else None,
                        "failures": record.failures if record else 0,
                    }
                )
    return {
        "case_number": case.id,
        "tenant_id": case.tenant_id,
        "admin": admin,
        "target_upn": case.upn,
        "answers": dict(answer_rows(case, playbook)),
        "leaf": case.leaf_id,
        "outcome": OUTCOMES.get(leaf.outcome, "") if leaf else "not determined yet",
        "case_state": case.status,
        "end_reason": case.end_reason,
        "steps": steps,
        "recorded_values": dict(case.values),
        "description": redact(description),
        "contact": redact(contact),
        "support_needs": list(leaf.support_needs) if leaf else [],
        "created_at": case.created_at,
    }


def summary_card(summary: dict[str, Any], title: str, actions: list[dict] | None = None, status_line: str = "") -> dict:
    body = [heading(title)]
    if status_line:
        body.append(text(status_line, weight="Bolder"))
    body.append(
        facts(
            [
                ("Case", summary["case_number"]),
                ("Target user", summary["target_upn"] or "not chosen"),
                ("Admin", f"{summary['admin'].get('name', '')} {summary['admin'].get('upn', '')}".strip()),
                ("Admin object id", summary["admin"].get("aad_object_id", "") or "unknown"),
                ("Tenant", summary["tenant_id"] or "unknown"),
                ("Contact", summary["contact"] or "—"),
                ("Scenario", f"{summary['leaf'] or '?'}: {summary['outcome']}"),
            ]
        )
    )
    if summary["answers"]:
        body.append(facts(summary["answers"].items()))
    if summary["description"]:
        body.append(text(f"What went wrong: {summary['description']}"))
    if summary["steps"]:
        body.append(
            facts((s["title"], f"{s['status']} {(s['at'] or '')[:16].replace('T', ' ')}".strip()) for s in summary["steps"])
        )
    if summary["recorded_values"]:
        body.append(facts((k, v) for k, v in summary["recorded_values"].items()))
    return card(body, actions)


def transcript_cards(entries: list[Entry], case_id: str) -> list[dict]:
    lines = format_transcript(entries).splitlines() or ["(empty)"]
    chunks = [lines[i : i + TRANSCRIPT_LINES_PER_CARD] for i in range(0, len(lines), TRANSCRIPT_LINES_PER_CARD)]
    result = []
    for number, chunk in enumerate(chunks, start=1):
        body = [text(f"Transcript of case {case_id} ({number}/{len(chunks)})", weight="Bolder")]
        body.append(
            {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": "\n".join(chunk), "fontType": "Monospace"}]}
        )
        result.append(card(body))
    return result


def escalation_form(case: RecoveryCase, playbook: Playbook, contact: str) -> dict:
    leaf = playbook.leaves.get(case.leaf_id or "")
    body = [
        heading(f"Escalate case {case.id} to support"),
        text(
            "Support will receive: the target user, your answers, the plan and each step's status, the values you "
            "recorded, what you write below, and the transcript of this case (secrets redacted)."
        ),
        facts(
            [
                ("Target user", case.upn or "not chosen"),
                ("Scenario", f"{leaf.id}: {OUTCOMES[leaf.outcome]}" if leaf else "not determined yet"),
            ]
        ),
        {
            "type": "Input.Text",
            "id": "description",
            "label": "What went wrong?",
            "isMultiline": True,
            "maxLength": MAX_DESCRIPTION,
            "placeholder": "The error message, what you tried, what you expected.",
        },
        {"type": "Input.Text", "id": "contact", "label": "How can support reach you?", "value": contact, "maxLength": 256},
    ]
    return card(
        body,
        [
            submit("Send to support", {"action": "escalation", "case": case.id}, "positive"),
            submit("Not now", {"action": "escalation_cancel", "case": case.id}),
        ],
    )


class Escalation:
    """Starts an escalation (the form), sends it (ticket), shows transcripts."""

    def __init__(self, playbook: Playbook, transcripts: TranscriptStore, channel: SupportChannel | None = None) -> None:
        self.playbook = playbook
        self.transcripts = transcripts
        self.channel = channel

    def form(self, case: RecoveryCase, contact: str) -> dict:
        return escalation_form(case, self.playbook, contact)

    async def submit(self, case: RecoveryCase, admin: dict[str, str], description: str, contact: str) -> tuple[dict, list[dict]]:
        """Create the ticket once; a second escalation adds to the first ticket's thread.
        Returns (card for the admin, extra cards for the admin's chat)."""
        description = (description or "")[:MAX_DESCRIPTION]
        entries = await self.transcripts.read(case.id)
        if case.ticket:
            if self.channel is not None and case.ticket.get("delivered"):
                await self.channel.add_to_thread(
                    case, f"Escalated again by {admin.get('name', 'the admin')}: {redact(description)}"
                )
                return card([text(f"Added to ticket {case.id}: support sees your new note in the ticket's thread.")]), []
            return card([text(f"Case {case.id} is already escalated; here it is again to forward.")]), self._forward_cards(
                case, admin, description, contact, entries
            )
        summary = ticket_summary(case, self.playbook, admin, description, contact)
        case.ticket = {"number": case.id, "at": now_iso(), "delivered": False, "assigned_to": None, "history": []}
        case.status = ESCALATED
        case.touch()
        if self.channel is None:
            return (
                card(
                    [
                        heading(f"Case {case.id} is ready for support"),
                        text(
                            "No support team is connected to this bot. Forward the summary and transcript below "
                            "to your support team, or open a Microsoft Support request with them.",
                            color="Warning",
                        ),
                    ]
                ),
                self._forward_cards(case, admin, description, contact, entries),
            )
        try:
            delivery = await self.channel.post_ticket(case, summary, entries)
        except Exception:
            log.warning("ticket %s could not be delivered; it is kept for retry", case.id, exc_info=True)
            case.ticket["pending"] = True
            return (
                card(
                    [
                        heading(f"Ticket {case.id} is saved but not delivered yet"),
                        text(
                            "The support channel did not accept it just now. I will keep retrying; meanwhile "
                            "here is everything to forward if it is urgent.",
                            color="Warning",
                        ),
                    ]
                ),
                self._forward_cards(case, admin, description, contact, entries),
            )
        case.ticket.update(delivery, delivered=True)
        return card(
            [
                heading(f"Ticket {case.id} sent to support"),
                text("The support team has your summary and transcript. You will hear here when someone takes it."),
            ]
        ), []

    def _forward_cards(self, case, admin, description, contact, entries) -> list[dict]:
        summary = ticket_summary(case, self.playbook, admin, description, contact)
        return [summary_card(summary, f"Support ticket {case.id}"), *transcript_cards(entries, case.id)]
