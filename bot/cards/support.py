"""The escalation and support cards: the form the admin fills, the ticket support works from,
the transcript in the ticket's thread, and what the admin is told about their ticket."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.cards.actions import EscalationCancel, EscalationSubmit, TicketAction, data
from bot.cards.base import Card, as_written, card, facts, heading, monospace, open_url, short_time, submit, text
from bot.playbook import OUTCOMES, Playbook
from bot.support.transcript import Entry, format_transcript
from bot.walkthrough.case import RecoveryCase

TRANSCRIPT_LINES_PER_CARD = 60
TRANSCRIPT_CHARS_PER_CARD = 16_000  # Teams refuses messages over 100 KB (UTF-16); stay far below
MAX_DESCRIPTION = 2000
MAX_CONTACT = 256
TICKET_STATES = {"pending": "New", "open": "New, unassigned", "resolved": "Resolved"}


def summary_card(summary: dict[str, Any], title: str, actions: list[dict] | None = None, status_line: str = "") -> Card:
    """The ticket's summary. What people typed (the admin's name, contact, description, recorded
    values) is shown as written, so Markdown in it can never become a live link on support's card."""
    admin = summary["admin"]
    body = [heading(title)]
    if status_line:  # may name a person ("Assigned to ..."): shown as written
        body.append(as_written(status_line, weight="Bolder"))
    body.append(
        facts(
            [
                ("Case", summary["case_number"]),
                ("Target user", summary["target_upn"] or "not chosen"),
                ("Admin object id", admin.get("aad_object_id", "") or "unknown"),
                ("Tenant", summary["tenant_id"] or "unknown"),
                ("Scenario", f"{summary['leaf'] or '?'}: {summary['outcome']}"),
                *([("Finish before", summary["deadline"])] if summary.get("deadline") else []),
            ]
        )
    )
    body.append(as_written(f"Admin: {admin.get('name', '')} {admin.get('upn', '')}".strip()))
    body.append(as_written(f"Contact: {summary['contact'] or '—'}"))
    if summary["answers"]:
        body.append(facts(summary["answers"].items()))
    if summary["description"]:
        body.append(as_written(f"What went wrong: {summary['description']}"))
    if summary["steps"]:
        body.append(facts((s["title"], f"{s['status']} {short_time(s['at'])}".strip()) for s in summary["steps"]))
    for name, value in summary["recorded_values"].items():
        body.append(as_written(f"{name}: {value}"))
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


def transcript_cards(entries: list[Entry], case_id: str) -> list[Card]:
    chunks = transcript_chunks(format_transcript(entries))
    return [
        card([text(f"Transcript of case {case_id} ({number}/{len(chunks)})", weight="Bolder"), monospace(chunk)])
        for number, chunk in enumerate(chunks, start=1)
    ]


def escalation_form(case: RecoveryCase, playbook: Playbook, contact: str, form_id: str, description: str = "") -> Card:
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
            "value": description[:MAX_DESCRIPTION],
        },
        {
            "type": "Input.Text",
            "id": "contact",
            "label": "How can support reach you?",
            "value": contact,
            "maxLength": MAX_CONTACT,
        },
    ]
    return card(
        body,
        [
            submit("Send to support", data(EscalationSubmit(case.id, form_id)), "positive"),
            submit("Not now", data(EscalationCancel(case.id))),
        ],
    )


def escalation_form_sent(case_id: str, at: str) -> Card:
    """The form after it was sent: read-only, so it cannot hand the ticket out twice."""
    return card(
        [
            heading(f"Escalate case {case_id} to support"),
            text(f"Sent at {short_time(at)[11:]} UTC as ticket {case_id}.", weight="Bolder", color="Good"),
        ]
    )


def escalation_form_cancelled(case_id: str) -> Card:
    return card([heading(f"Escalate case {case_id} to support"), text("Not sent.", isSubtle=True)])


def no_channel_card(case_id: str) -> Card:
    return card(
        [
            heading(f"Case {case_id} is ready for support"),
            text(
                "No support team is connected to this bot. Forward the summary and transcript below to your support "
                "team, or open a Microsoft Support request with them. If a support channel is connected later, the "
                "ticket reaches it then.",
                color="Warning",
            ),
        ]
    )


def not_delivered_card(case_id: str) -> Card:
    return card(
        [
            heading(f"Ticket {case_id} is saved but not delivered yet"),
            text(
                "The support channel did not accept it just now. I keep retrying and will tell you here when it "
                "arrives; meanwhile here is everything to forward if it is urgent.",
                color="Warning",
            ),
        ]
    )


def sent_card(case_id: str, team_name: str) -> Card:
    return card(
        [
            heading(f"Ticket {case_id} sent to support"),
            text(
                f"The support team ({team_name or 'support channel'}) has the summary and the transcript. "
                "You will hear here when someone takes it."
            ),
        ]
    )


def added_to_ticket_card(case_id: str) -> Card:
    return card([heading(f"Added to ticket {case_id}"), text("Support sees your new note in the ticket's thread.")])


def chat_link(upn: str) -> str:
    return f"https://teams.microsoft.com/l/chat/0/0?users={quote(upn)}"


def ticket_card(ticket: Any) -> Card:
    """The ticket as support sees it in their channel (a bot.support.tickets.Ticket); updated in place as it moves."""
    state = f"Assigned to {ticket.assigned_to}" if ticket.status == "assigned" else TICKET_STATES[ticket.status]
    actions: list[dict] = []
    if ticket.status != "resolved":
        actions.append(submit("Assign to me", data(TicketAction(ticket.ref, "assign"))))
        actions.append(submit("Resolve", data(TicketAction(ticket.ref, "resolve")), "positive"))
    if ticket.admin_upn:
        actions.append(open_url("Chat with the admin", chat_link(ticket.admin_upn)))
    content = summary_card(ticket.summary, f"Mailbox recovery ticket {ticket.case_id}", actions, status_line=f"Status: {state}")
    if ticket.history:
        content["body"].append(text("History", weight="Bolder"))
        # who-did-what names people by their display names: shown as written, never as Markdown
        content["body"].extend(as_written(f"{short_time(h['at'])}  {h['who']}: {h['what']}") for h in ticket.history[-10:])
    return content


def admin_notice(case_id: str, what: str) -> Card:
    """What happened to the admin's ticket; `what` names people (display names), so it is shown as written."""
    return card([heading(f"Your support ticket {case_id}"), as_written(what)])


def note_card(note: str) -> Card:
    """A note in a support thread or channel, shown as written (it may quote what people typed)."""
    return card([as_written(note)])
