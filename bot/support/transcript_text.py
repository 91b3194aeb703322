"""A case transcript as support reads it, with each entry one unit that nobody can forge.

An admin's message may hold line breaks (Shift+Enter, a pasted block, U+2028): written line by
line, one of its lines could read exactly like the bot's `<time> bot: ...`. Here an entry's first
line carries its time and speaker, written by the bot, and every further line of the same entry
is indented and marked with CONTINUATION, so that no line of what someone typed can start a new
entry. Format characters (Unicode Cf: bidi overrides and isolates, zero-width characters) and
control characters are removed from everything shown, so that text cannot reorder or hide
itself on support's screen. Plain Python.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Protocol

CONTINUATION = "    | "
_KEPT_CONTROLS = frozenset("\t\n\r\x0b\x0c\x1c\x1d\x1e\x85")  # tab, and the line breaks splitlines() knows


class TranscriptEntry(Protocol):  # bot.support.transcript.Entry
    at: str
    speaker: str
    text: str


def visible(text: str) -> str:
    """`text` without format characters (Cf) and control characters other than tab and line breaks."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch for ch in text if ch in _KEPT_CONTROLS or unicodedata.category(ch) not in ("Cf", "Cc"))


def entry_lines(entry: TranscriptEntry) -> list[str]:
    """The entry's lines as written: its text's first line, then each further line marked."""
    lines = visible(str(entry.text)).splitlines() or [""]
    return [lines[0], *(CONTINUATION + line for line in lines[1:])]


def entry_time(entry: TranscriptEntry) -> str:
    return " ".join(visible(str(entry.at)).split())


def entry_speaker(entry: TranscriptEntry) -> str:
    """One of admin, bot, support: written by the bot, never by the speaker."""
    return " ".join(visible(str(entry.speaker)).split()) or "unknown"


def entry_header(entry: TranscriptEntry) -> str:
    """'<time> <speaker>:', the part of an entry's first line that the bot writes."""
    return f"{entry_time(entry)} {entry_speaker(entry)}:"


def render_transcript_text(entries: Iterable[TranscriptEntry]) -> str:
    """The transcript as plain text (a file for support): one header line per entry, its
    continuation lines indented and marked, so a line can never look like a new entry."""
    out: list[str] = []
    for entry in entries:
        first, *rest = entry_lines(entry)
        out.append(f"{entry_header(entry)} {first}".rstrip())
        out.extend(rest)
    return "\n".join(out)
