"""The case transcript as a text file the admin can save or forward: the ticket's summary on top
(what support asks for first: the user, the scenario, where it stopped, the errors pasted, the
values recorded), then every entry, one unit each (bot.support.transcript_text). Everything in
it was redacted when it was stored, and is redacted again here; format characters are removed
and the continuation lines of anything someone typed are marked, so no line can pass for the
bot's. Plain Python: the edge offers it (a Teams file consent card) or shows it in one card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.support.redaction import redact
from bot.support.transcript_text import CONTINUATION, TranscriptEntry, render_transcript_text, visible

MAX_FILE_TRANSCRIPT = 1_000_000  # characters of transcript in the file (its most recent part beyond that)
FILE_TYPE = "txt"


def file_name(case_id: str) -> str:
    return f"transcript-{case_id}.{FILE_TYPE}"


@dataclass(frozen=True)
class TranscriptFile:
    case_id: str
    text: str

    @property
    def name(self) -> str:
        return file_name(self.case_id)

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")

    @property
    def size(self) -> int:
        return len(self.data)


def field_lines(label: str, value: Any) -> list[str]:
    """`label: value`, the value's further lines marked as continuations (it may be what someone typed)."""
    lines = visible(redact(str(value))).splitlines() or [""]
    return [f"{label}: {lines[0]}".rstrip(), *(CONTINUATION + line for line in lines[1:])]


def summary_lines(summary: Mapping[str, Any]) -> list[str]:
    """The ticket's summary (bot.support.escalation.ticket_summary) as the file's first section."""
    admin = summary.get("admin") or {}
    out = [
        *field_lines("Case", summary.get("case_number", "")),
        *field_lines("Target user", summary.get("target_upn") or "not chosen"),
        *field_lines("Scenario", f"{summary.get('leaf') or '?'}: {summary.get('outcome', '')}"),
    ]
    if summary.get("stopped_at"):
        out += field_lines("Where it stopped", summary["stopped_at"])
    out += field_lines("Admin", f"{admin.get('name', '')} {admin.get('upn', '')}".strip() or "unknown")
    out += field_lines("Admin object id", admin.get("aad_object_id", "") or "unknown")
    out += field_lines("Tenant", summary.get("tenant_id") or "unknown")
    out += field_lines("Contact", summary.get("contact") or "-")
    if summary.get("deadline"):
        out += field_lines("Finish before", summary["deadline"])
    if summary.get("description"):
        out += field_lines("What went wrong", summary["description"])
    for error in summary.get("errors") or []:
        out += field_lines(f"Error pasted ({error.get('where', '')})", error.get("text", ""))
    for name, value in (summary.get("recorded_values") or {}).items():
        out += field_lines(f"Recorded {name}", value)
    for question, answer in (summary.get("answers") or {}).items():
        out += field_lines(f"Answer: {question}", answer)
    for step in summary.get("steps") or []:
        out += field_lines(f"Step: {step.get('title', '')}", f"{step.get('status', '')} {step.get('at') or ''}".strip())
    return out


def transcript_file(case_id: str, entries: Iterable[TranscriptEntry], summary: Mapping[str, Any] | None = None) -> TranscriptFile:
    """The file: a title line, the ticket's summary when there is a ticket, then the transcript."""
    parts = [f"Mailbox recovery case {case_id}: {'ticket and ' if summary else ''}transcript (secrets redacted)", ""]
    if summary:
        parts += ["Ticket", "------", *summary_lines(summary), ""]
    parts += ["Transcript", "----------", render_transcript_text(entries) or "(empty)", ""]
    return TranscriptFile(case_id, "\n".join(parts))
