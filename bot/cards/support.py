"""The escalation and support cards: the form the admin fills, the ticket support works from,
the transcript in the ticket's thread, and what the admin is told about their ticket.

Whatever people typed or named (an admin's name and notes, recorded values, a team's name, a
supporter's display name, transcript entries) is shown as written (TextRuns, never Markdown) and
without format characters (bidi controls, zero-width characters: bot.support.transcript_text.visible).
Each transcript entry is one unit: the time and speaker in the bot's own style, the text in one
TextRun whose continuation lines are marked, so no line an admin types can pass for the bot's."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.cards.actions import EscalationCancel, EscalationSubmit, TicketAction, data
from bot.cards.base import Card, as_written, card, facts, heading, open_url, short_time, submit, text
from bot.playbook import OUTCOMES, Playbook
from bot.support.transcript import Entry
from bot.support.transcript_text import CONTINUATION, entry_lines, entry_speaker, entry_time, visible
from bot.walkthrough.case import RecoveryCase

TRANSCRIPT_LINES_PER_CARD = 60
TRANSCRIPT_CHARS_PER_CARD = 16_000  # Teams refuses messages over 100 KB (UTF-16); stay far below
MAX_DESCRIPTION = 2000
MAX_CONTACT = 256
TICKET_STATES = {"pending": "New", "open": "New, unassigned", "resolved": "Resolved"}


def written(value: str, **style: Any) -> dict:
    """What someone typed or named, for support: as written (a TextRun) and without format characters."""
    return as_written(visible(value), **style)


def shown_facts(pairs) -> dict:
    return facts((visible(str(title)), visible(str(value))) for title, value in pairs)


def summary_card(summary: dict[str, Any], title: str, actions: list[dict] | None = None, status_line: str = "") -> Card:
    """The ticket's summary. What people typed (the admin's name, contact, description, recorded
    values) is shown as written, so Markdown in it can never become a live link on support's card."""
    admin = summary["admin"]
    body = [heading(title)]
    if status_line:  # may name a person ("Assigned to ..."): shown as written
        body.append(written(status_line, weight="Bolder"))
    body.append(
        shown_facts(
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
    body.append(written(f"Admin: {admin.get('name', '')} {admin.get('upn', '')}".strip()))
    body.append(written(f"Contact: {summary['contact'] or '—'}"))
    if summary["answers"]:
        body.append(shown_facts(summary["answers"].items()))
    if summary["steps"]:
        body.append(shown_facts((s["title"], f"{s['status']} {short_time(s['at'])}".strip()) for s in summary["steps"]))
    body.extend(ticket_details(summary))
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


def transcript_blocks(entry: Entry, max_lines: int, max_chars: int) -> list[tuple[int, int, dict]]:
    """One entry as RichTextBlocks (more than one only when it is too long for one card): the
    time and speaker in the bot's style, then the entry's text in one TextRun, its continuation
    lines marked. Each as (lines, characters, block)."""
    lines: list[str] = []
    width = max(80, max_chars - len(CONTINUATION) - 100)
    for number, line in enumerate(entry_lines(entry)):
        parts = [line[i : i + width] for i in range(0, len(line), width)] or [""]
        for i, part in enumerate(parts):
            # a long line cut in parts: every part after the first is marked as a continuation too
            marked = (number == 0 and i == 0) or part.startswith(CONTINUATION)
            lines.append(part if marked else CONTINUATION + part)
    pieces: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pieces[-1] and (len(pieces[-1]) >= max_lines or size + len(line) > width):
            pieces.append([])
            size = 0
        pieces[-1].append(line)
        size += len(line) + 1
    blocks = []
    for number, piece in enumerate(pieces):
        speaker = entry_speaker(entry) + (":" if number == 0 else ": (continued)")
        body = (" " if number == 0 else "\n") + "\n".join(piece)
        inlines = [
            {"type": "TextRun", "text": f"{entry_time(entry)} ", "isSubtle": True, "fontType": "Monospace"},
            {"type": "TextRun", "text": speaker, "weight": "Bolder", "fontType": "Monospace"},
            {"type": "TextRun", "text": body, "fontType": "Monospace"},
        ]
        blocks.append((len(piece), len(body) + len(speaker) + 40, {"type": "RichTextBlock", "inlines": inlines}))
    return blocks


def transcript_cards(entries: list[Entry], case_id: str) -> list[Card]:
    """The transcript in cards of at most TRANSCRIPT_LINES_PER_CARD lines and
    TRANSCRIPT_CHARS_PER_CARD characters, one RichTextBlock per entry."""
    pages: list[list[dict]] = []
    page: list[dict] = []
    lines = size = 0
    for entry in entries or [Entry("", "bot", "(empty)")]:
        for block_lines, block_size, block in transcript_blocks(entry, TRANSCRIPT_LINES_PER_CARD, TRANSCRIPT_CHARS_PER_CARD):
            if page and (lines + block_lines > TRANSCRIPT_LINES_PER_CARD or size + block_size > TRANSCRIPT_CHARS_PER_CARD):
                pages.append(page)
                page, lines, size = [], 0, 0
            page.append(block)
            lines += block_lines
            size += block_size
    pages.append(page)
    return [
        card([text(f"Transcript of case {case_id} ({number}/{len(pages)})", weight="Bolder"), *blocks])
        for number, blocks in enumerate(pages, start=1)
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


def forward_ticket_card(summary: dict[str, Any], delivered: bool) -> Card:
    """The ticket for the admin to forward, compact: what support asks for first (the user, the
    scenario, where it stopped, what went wrong, the errors pasted, the values recorded). The
    rest (answers, every step, the transcript) is in the transcript the admin is given with it.
    `delivered`: a support channel is connected but did not take it yet (else there is none)."""
    case_id = summary["case_number"]
    admin = summary["admin"]
    if delivered:
        title = f"Ticket {case_id} is saved but not delivered yet"
        why = (
            "The support channel did not accept it just now. I keep retrying and will tell you here when it "
            "arrives; meanwhile, if it is urgent, forward this ticket and the transcript to your support team."
        )
    else:
        title = f"Case {case_id} is ready for support"
        why = (
            "No support team is connected to this bot. Forward this ticket and the transcript to your support "
            "team, or open a Microsoft Support request with them. If a support channel is connected later, the "
            "ticket reaches it then."
        )
    body = [
        heading(title),
        text(why, color="Warning"),
        shown_facts(
            [
                ("Case", case_id),
                ("Target user", summary["target_upn"] or "not chosen"),
                ("Scenario", f"{summary['leaf'] or '?'}: {summary['outcome']}"),
                *([("Where it stopped", summary["stopped_at"])] if summary.get("stopped_at") else []),
                ("Admin", f"{admin.get('name', '')} {admin.get('upn', '')}".strip() or "unknown"),
                ("Tenant", summary["tenant_id"] or "unknown"),
                ("Contact", summary["contact"] or "—"),
                *([("Finish before", summary["deadline"])] if summary.get("deadline") else []),
            ]
        ),
    ]
    body.extend(ticket_details(summary))
    return card(body)


def ticket_details(summary: dict[str, Any]) -> list[dict]:
    """What went wrong, the errors pasted and the values recorded: each shown as written."""
    details = []
    if summary["description"]:
        details.append(written(f"What went wrong: {summary['description']}"))
    for error in summary.get("errors") or []:  # tickets made before the errors were kept have none
        first, *rest = visible(f"Error pasted ({error['where']}): {error['text']}").splitlines() or [""]
        details.append(written("\n".join([first, *(CONTINUATION + line for line in rest)])))  # pasted lines stay its own
    for name, value in summary["recorded_values"].items():
        details.append(written(f"{name}: {value}"))
    return details


COLLAPSED_TRANSCRIPT_CHARS = 20_000  # of transcript in the one collapsed card (a message stays far under Teams' limit)
COLLAPSED_TRANSCRIPT_LINES = 400


def collapsed_transcript_card(entries: list[Entry], case_id: str, note: str) -> Card:
    """The transcript in ONE card, collapsed: a line or two and a "Show the transcript" button
    (Action.ShowCard) that opens it, one RichTextBlock per entry, continuation lines marked. Its
    most recent part when it is longer than one message can carry, after a line saying so."""
    blocks: list[dict] = []
    size = lines = 0
    kept = 0
    for entry in reversed(entries or [Entry("", "bot", "(empty)")]):
        pieces = transcript_blocks(entry, TRANSCRIPT_LINES_PER_CARD, TRANSCRIPT_CHARS_PER_CARD)
        entry_size = sum(piece_size for _, piece_size, _ in pieces)
        entry_lines_ = sum(piece_lines for piece_lines, _, _ in pieces)
        if blocks and (size + entry_size > COLLAPSED_TRANSCRIPT_CHARS or lines + entry_lines_ > COLLAPSED_TRANSCRIPT_LINES):
            break
        blocks[:0] = [block for _, _, block in pieces]
        size, lines, kept = size + entry_size, lines + entry_lines_, kept + 1
    omitted = len(entries) - kept if entries else 0
    inner: list[dict] = []
    if omitted:
        inner.append(text(f"{omitted} earlier entries are left out here, to fit one message.", isSubtle=True))
    inner.extend(blocks)
    span = f"{short_time(entries[0].at)} to {short_time(entries[-1].at)} UTC, " if entries else ""
    body = [
        heading(f"Transcript of case {case_id}"),
        text(note, color="Warning"),
        text(f"{len(entries)} entries, {span}secrets redacted.", isSubtle=True, size="Small"),
    ]
    show = {"type": "Action.ShowCard", "title": "Show the transcript", "card": {"type": "AdaptiveCard", "body": inner}}
    return card(body, [show])


def sent_card(case_id: str, team_name: str) -> Card:
    return card(
        [
            heading(f"Ticket {case_id} sent to support"),
            # the team's name is whatever its owner typed: shown as written, never as Markdown
            written(
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
    else:
        actions.append(submit("Reopen", data(TicketAction(ticket.ref, "reopen"))))
    if ticket.admin_upn:
        actions.append(open_url("Chat with the admin", chat_link(ticket.admin_upn)))
    content = summary_card(ticket.summary, f"Mailbox recovery ticket {ticket.case_id}", actions, status_line=f"Status: {state}")
    if ticket.history:
        content["body"].append(text("History", weight="Bolder"))
        # who-did-what names people by their display names: shown as written, never as Markdown
        content["body"].extend(written(f"{short_time(h['at'])}  {h['who']}: {h['what']}") for h in ticket.history[-10:])
    return content


def admin_notice(case_id: str, what: str) -> Card:
    """What happened to the admin's ticket; `what` names people (display names), so it is shown as written."""
    return card([heading(f"Your support ticket {case_id}"), written(what)])


def note_card(note: str) -> Card:
    """A note in a support thread or channel, shown as written (it may quote what people typed)."""
    return card([written(note)])
