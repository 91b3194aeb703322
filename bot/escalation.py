"""Escalation: hand a case to support with its summary and transcript.

Plain logic and cards here; delivery to a support channel goes through a `SupportChannel`
(bot.support_channel) that the app wires in when one is configured. Without one, the admin
gets the summary and transcript in their own chat to forward, and is told so.
"""

from __future__ import annotations

from typing import Any

from .cards import card, facts, heading, submit, text
from .case import ESCALATED, RecoveryCase, now_iso
from .playbook import OUTCOMES, Playbook
from .transcript import Entry, TranscriptStore, format_transcript, redact

TRANSCRIPT_LINES_PER_CARD = 60
TRANSCRIPT_CHARS_PER_CARD = 16_000  # Teams refuses messages over 100 KB (UTF-16); stay far below
MAX_DESCRIPTION = 2000


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


def transcript_chunks(
    text_: str, max_lines: int = TRANSCRIPT_LINES_PER_CARD, max_chars: int = TRANSCRIPT_CHARS_PER_CARD
) -> list[str]:
    """Split a transcript into pieces of at most max_lines lines and max_chars characters (a line
    longer than that is cut into parts), so every message stays well under Teams' size limit."""
    pieces: list[str] = []
    lines: list[str] = []
    size = 0
    for line in text_.splitlines() or ["(empty)"]:
        parts = [line[i : i + max_chars] for i in range(0, len(line), max_chars)] or [""]
        for part in parts:
            if lines and (len(lines) >= max_lines or size + len(part) > max_chars):
                pieces.append("\n".join(lines))
                lines, size = [], 0
            lines.append(part)
            size += len(part) + 1
    pieces.append("\n".join(lines))
    return pieces


def transcript_cards(entries: list[Entry], case_id: str) -> list[dict]:
    chunks = transcript_chunks(format_transcript(entries))
    result = []
    for number, chunk in enumerate(chunks, start=1):
        body = [text(f"Transcript of case {case_id} ({number}/{len(chunks)})", weight="Bolder")]
        body.append({"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": chunk, "fontType": "Monospace"}]})
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


def handoff_transcript(entries: list[Entry]) -> dict[str, Any]:
    """The transcript as the Bot Framework handoff protocol's attachment content."""
    return {
        "activities": [
            {
                "type": "message",
                "timestamp": e.at,
                "text": e.text,
                "from": {"role": "user" if e.speaker == "admin" else "bot", "name": e.speaker},
            }
            for e in entries
        ]
    }


class Escalation:
    """The plain part of escalating: the form, the ticket summary, marking the case, and what to
    give the admin to forward when no support channel is connected."""

    def __init__(self, playbook: Playbook, transcripts: TranscriptStore) -> None:
        self.playbook = playbook
        self.transcripts = transcripts

    def form(self, case: RecoveryCase, contact: str) -> dict:
        return escalation_form(case, self.playbook, contact)

    def prepare(self, case: RecoveryCase, admin: dict[str, str], description: str, contact: str) -> dict[str, Any]:
        """The summary support gets; marks the case escalated (a second escalation keeps the first time)."""
        summary = ticket_summary(case, self.playbook, admin, (description or "")[:MAX_DESCRIPTION], contact)
        if case.ticket is None:
            case.ticket = {"number": case.id, "at": now_iso(), "history": []}
        case.ticket["history"].append({"at": now_iso(), "who": admin.get("name") or "admin", "what": "escalated"})
        case.status = ESCALATED
        case.touch()
        return summary

    async def forward_cards(self, case: RecoveryCase, summary: dict[str, Any]) -> list[dict]:
        entries = await self.transcripts.read(case.id)
        return [summary_card(summary, f"Support ticket {case.id}"), *transcript_cards(entries, case.id)]
