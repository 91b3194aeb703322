"""The case transcript: every message in and out of a case, in order, as readable text.

Card clicks are written as the answer they stand for, cards as their title and commands.
Anything that looks like a secret is redacted before it is stored. Plain Python: the bot edge
turns activities into (text, card data) before calling in here.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from bot.storage import DocumentStore
from bot.storage.keys import TRANSCRIPT_COUNTS, TRANSCRIPTS
from bot.support.redaction import redact
from bot.walkthrough.case import is_legacy_case_id, now_iso

MAX_ENTRY = 4000
MAX_TRANSCRIPT = 64_000  # characters of a transcript handed out at once (about 4 cards)
MAX_TURNS = 1000  # turn documents one case transcript keeps (MAX_TRANSCRIPT_TURNS); later turns are not kept
FULL = "[The transcript of this case is full ({turns} turns): later turns are not kept. Start a new case to keep a record.]"


@dataclass
class Entry:
    at: str
    speaker: str  # "admin" | "bot" | "support"
    text: str


def card_text(card: dict[str, Any]) -> str:
    """A card as lines of text: its text blocks, facts and commands (not its buttons)."""
    lines: list[str] = []

    def walk(element: Any) -> None:
        if isinstance(element, list):
            for item in element:
                walk(item)
            return
        if not isinstance(element, dict):
            return
        kind = element.get("type")
        if kind == "TextBlock":
            lines.append(str(element.get("text", "")))
        elif kind == "CodeBlock":
            lines.extend("    " + line for line in str(element.get("codeSnippet", "")).splitlines())
            return  # the fallback repeats the same lines
        elif kind == "FactSet":
            lines.extend(f"{f.get('title')}: {f.get('value')}" for f in element.get("facts", []))
        elif kind == "Input.Text" and element.get("value"):
            lines.append(f"{element.get('label', element.get('id'))}: {element['value']}")
        for key in ("body", "items", "columns"):
            walk(element.get(key))

    walk(card.get("body", []))
    return "\n".join(line for line in lines if line)


class TurnTranscript:
    """What one turn adds to case transcripts, recorded where messages are received and sent.
    Each message names the case it concerns, so that a case's transcript holds only that case:
    `cases` or another case's status shown while a case is current never land in it. The
    incoming message goes to `incoming_case` when the turn set one, else to the admin's current
    case at the end of the turn; `None` keeps it out of every transcript."""

    UNSET = "\0unset"

    def __init__(self) -> None:
        self.incoming = ""
        self.incoming_case: str | None = self.UNSET
        self.outgoing: list[tuple[str, Entry]] = []

    def heard(self, text: str) -> None:
        self.incoming = text

    def said(self, case_id: str | None, text: str) -> None:
        if case_id and text:
            self.outgoing.append((case_id, entry("bot", text)))

    def by_case(self, current_case: str | None, received_at: str) -> dict[str, list[Entry]]:
        result: dict[str, list[Entry]] = {}
        incoming_case = current_case if self.incoming_case == self.UNSET else self.incoming_case
        if incoming_case and self.incoming:
            result[incoming_case] = [Entry(received_at, "admin", self.incoming)]
        for case_id, said in self.outgoing:
            result.setdefault(case_id, []).append(said)
        return result


class TranscriptStore:
    """Append-only: one document per turn, transcripts/<case ref>/<time>-<n>, so a turn writes
    once and never rewrites what earlier turns said. The case ref ('<tenant>/<owner>/<case id>',
    RecoveryCase.ref) keeps two cases with one number apart; a case numbered before v5 also
    reads what it wrote under transcripts/<case id>/ then (a bare number reads only that)."""

    PREFIX = TRANSCRIPTS.prefix

    def __init__(self, documents: DocumentStore, max_turns: int = MAX_TURNS) -> None:
        self.documents = documents
        self.max_turns = max_turns

    def _prefixes(self, ref: str) -> list[str]:
        if "/" not in ref:
            return [f"{self.PREFIX}{ref}/"]
        case_id = ref.rsplit("/", 1)[1]
        legacy = [f"{self.PREFIX}{case_id}/"] if is_legacy_case_id(case_id) else []
        return [*legacy, f"{self.PREFIX}{ref}/"]

    async def append(self, ref: str, entries: Iterable[Entry]) -> None:
        # Cut first (with a margin, so a secret at the cut is still seen whole), then redact: the
        # patterns never scan more than a few KB, whatever was pasted.
        new = [asdict(Entry(e.at, e.speaker, redact(e.text[: MAX_ENTRY + 256])[:MAX_ENTRY])) for e in entries]
        if not new:
            return
        turn = await self._count(ref)
        if turn is None:
            return  # the transcript is full
        if turn == self.max_turns:
            new.append(asdict(Entry(new[-1]["at"], "bot", FULL.format(turns=self.max_turns))))
        # Sortable and unique: the turn's time, then a random tail for turns in the same microsecond.
        key = f"{self.PREFIX}{ref}/{time.time():017.6f}-{secrets.token_hex(4)}"
        await self.documents.write(key, {"entries": new}, None)

    async def _count(self, ref: str) -> int | None:
        """Count one more turn in the case's transcript: its number, or None when it is full."""
        counted: list[int] = []

        def count(document):
            counted.clear()
            turns = (document or {}).get("turns", 0)
            if turns >= self.max_turns:
                return None
            counted.append(turns + 1)
            return {"turns": turns + 1}

        await self.documents.update(TRANSCRIPT_COUNTS.prefix + ref, count)
        return counted[0] if counted else None

    async def _turns(self, ref: str) -> dict[str, dict]:
        """The case's turn documents by key, in order (by the time each key ends with)."""
        turns: dict[str, dict] = {}
        for prefix in self._prefixes(ref):
            turns.update(await self.documents.read_prefix(prefix))
        return dict(sorted(turns.items(), key=lambda item: item[0].rsplit("/", 1)[1]))

    async def read(self, ref: str, max_chars: int = MAX_TRANSCRIPT) -> list[Entry]:
        """The case's transcript in order; beyond `max_chars` only its most recent part, after a line
        saying how much was left out (what support, the admin or a handoff is sent stays bounded)."""
        turns = await self._turns(ref)
        entries = [Entry(**e) for turn in turns.values() for e in turn["entries"]]
        kept: list[Entry] = []
        size = 0
        for item in reversed(entries):
            size += len(item.text)
            if size > max_chars:
                omitted = len(entries) - len(kept)
                kept.append(Entry(item.at, "bot", f"[{omitted} earlier transcript entries left out: the transcript is long]"))
                break
            kept.append(item)
        return kept[::-1]

    async def delete(self, refs: Iterable[str]) -> None:
        for ref in refs:
            await self.documents.delete([*await self._turns(ref), TRANSCRIPT_COUNTS.prefix + ref])


def format_transcript(entries: Iterable[Entry]) -> str:
    return "\n".join(f"{e.at} {e.speaker}: {e.text}" for e in entries)


def entry(speaker: str, text: str) -> Entry:
    return Entry(now_iso(), speaker, text)
