"""The case transcript: every message in and out of a case, in order, as readable text.

Card clicks are written as the answer they stand for, cards as their title and commands.
Anything that looks like a secret is redacted before it is stored. Plain Python: the bot edge
turns activities into (text, card data) before calling in here.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from bot.storage import DocumentStore
from bot.walkthrough.case import now_iso

MAX_ENTRY = 4000
MAX_TRANSCRIPT = 64_000  # characters of a transcript handed out at once (about 4 cards)

# Built once at import: redact runs on every transcript line of every turn.
_QUOTED = r"""(?:"[^"\n]*"|'[^'\n]*'|“[^”\n]*”|‘[^’\n]*’)"""  # a quoted phrase goes whole
_WORD = r"""[^\s'"“”‘’]+"""
_PASSWORD = r"(?:password|passwort|passwd|passphrase|passcode|kennwort|contrase[ñn]a|mot de passe|pwd|pw)"
_PASSWORD_OR_PASS = rf"(?:{_PASSWORD}|pass)"
_FOR_WHOM = r"(?:\s+(?:for|of)\s+[^\s:=]+)?"  # "the password for bob is ..."
# "the password is expired" is about a password, not one: these words after "is"/"was" stay.
_NOT_A_VALUE = (
    r"(?:expired|reset|changed|wrong|incorrect|invalid|valid|required|needed|missing|unknown|not|being|still|set|"
    r"the|a|an|too|empty|blank|locked|also|correct|weak|strong|different|same|in|on|for|synced|stored)\b"
)
# "is", "was set to", "is:", and the same in the languages admins paste (est, ist, lautet, es)
_IS = r"(?:(?:is|was|will be|est|ist|lautet|es)(?:\s+(?:set|changed|reset)\s+to)?|(?:set|changed|reset) to):?"
# Bare "password X": only when X looks like a secret (a digit or a symbol), so "password hash sync" stays.
_SECRET_LIKE = r"(?=[^\s'\"]*[0-9!@#$%^&*~+=<>/\\|{}\[\]])[^\s'\"]+"
_KEY_NAME = (
    r"(?:client[ _-]?secret|secret|x-api-key|apikey|"
    r"(?:api|access|account|shared[ _-]?access|subscription|primary|secondary|storage|secret|private|sas)[ _-]?key|"
    r"(?:access|refresh|id|auth|sas|session)[ _-]?token|token|shared[ _-]?access[ _-]?signature|sig)"
)
_SECRETS = [
    # Private keys pasted whole (PEM)
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        "[redacted private key]",
    ),
    # JWTs, bearer tokens and HTTP Basic credentials
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), "[redacted token]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{16,}"), r"\1 [redacted token]"),
    # (base64 has capitals or digits: "basic authentication" stays)
    (re.compile(r"(?i)\b(basic)\s+(?-i:(?=[A-Za-z0-9+/]*[A-Z0-9+/]))[A-Za-z0-9+/]{8,}={0,2}"), r"\1 [redacted]"),
    # A literal assigned to a PowerShell variable named like a secret: $password = 'x' (a $variable
    # on the right-hand side is no secret and stays)
    (re.compile(rf"(?i)(\$\w*(?:pass|pw|pwd|secret|key|token|cred)\w*\s*=\s*)(?:{_QUOTED})"), r"\1[redacted]"),
    # ConvertTo-SecureString -AsPlainText 'x' -Force: the literal, wherever its switches stand
    (re.compile(rf"(?i)(\bConvertTo-SecureString(?:\s+-\w+)*\s+)(?:{_QUOTED})"), r"\1[redacted]"),
    # Temporary Access Pass (Entra): "TAP is X", "Temporary Access Pass: X"
    (
        re.compile(
            rf"(?i)\b((?:temporary access pass|TAP)(?:\s+(?:is|was)\s+|\s*:\s*|\s+(?=\S*\d)))"
            rf"(?!{_NOT_A_VALUE})(?:{_QUOTED}|{_WORD})"
        ),
        r"\1[redacted]",
    ),
    # PowerShell: ConvertTo-SecureString 'x', -NewPassword 'x', -ClientSecret x (never $variables or (sub-expressions))
    (re.compile(rf"(?i)(\bConvertTo-SecureString\s+(?:-String\s+)?)(?:{_QUOTED}|(?![-$(@]){_WORD})"), r"\1[redacted]"),
    (
        re.compile(
            rf"(?i)(-(?:\w*Password|ClientSecret|\w*Secret|String|\w*Token|AccountKey)\s+)(?:{_QUOTED}|(?![-$(@])[^\s;)]+)"
        ),
        r"\1[redacted]",
    ),
    # password: x / password = "x y" / "password": "x" (JSON)
    # ($pw = ... and Password = $pw are PowerShell variables, not secrets: left as written)
    (re.compile(rf"(?i)(?<!\$)\b({_PASSWORD_OR_PASS}{_FOR_WHOM}[\"']?\s*[:=]\s*)(?:{_QUOTED}|(?!\$){_WORD})"), r"\1[redacted]"),
    # the password for bob is x / temp password was x / password set to x
    (
        re.compile(rf"(?i)(?<!\$)\b({_PASSWORD}{_FOR_WHOM}\s+{_IS}\s+)(?:{_QUOTED}|(?!{_NOT_A_VALUE}){_WORD})"),
        r"\1[redacted]",
    ),
    # password Hunter2! / set the password to Hunter2!
    (re.compile(rf"(?i)(?<!\$)\b({_PASSWORD}\s+(?:to\s+)?)(?:{_QUOTED}|(?![$=:]){_SECRET_LIKE})"), r"\1[redacted]"),
    # key and token names: SharedAccessKey=..., refresh_token=..., api-key: ..., client secret is ...
    (
        re.compile(rf"(?i)\b({_KEY_NAME}[\"']?(?:\s*[:=]\s*|\s+(?:is|was)\s+(?!{_NOT_A_VALUE})))(?:{_QUOTED}|[^\s;&'\"“”‘’]+)"),
        r"\1[redacted]",
    ),
    # Entra client secrets: 34-40 chars with a ~ in them
    (re.compile(r"\b[A-Za-z0-9_.-]{3}\dQ~[A-Za-z0-9_.~-]{30,}"), "[redacted secret]"),
    # Storage account keys and connection strings
    (re.compile(r"(?i)(AccountKey|SharedAccessSignature|SharedAccessKey|sig)=[^;&\s]+"), r"\1=[redacted]"),
]


# Every pattern above needs one of these words (in any case) in what it matches (a PEM key has
# "key"). Most lines (the bot's own cards, "done", a UPN) hold none of them, and one casefold plus
# a few substring tests costs a fraction of the patterns' scans; a line that holds one still gets
# every pattern.
_TRIGGERS = (
    "eyj", "bearer", "basic", "pass", "pw", "secret", "key", "token", "cred",
    "convertto", "-string", "tap", "kennwort", "contrase", "sig", "q~",
)  # fmt: skip
# IGNORECASE also matches four non-ASCII letters to ASCII ones: casefold() maps the Kelvin sign
# and the long s; the Turkish dotted and dotless i need this (İ casefolds to i and a combining dot).
_TURKISH_I = str.maketrans({"ı": "i", "\u0307": None})


def redact(text: str) -> str:
    folded = text.casefold()
    if not folded.isascii():
        folded = folded.translate(_TURKISH_I)
    if not any(trigger in folded for trigger in _TRIGGERS):
        return text
    return redact_every_pattern(text)


def redact_every_pattern(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


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
    """Append-only: one document per turn, transcripts/<case id>/<time>-<n>, so a turn writes
    once and never rewrites what earlier turns said."""

    PREFIX = "transcripts/"

    def __init__(self, documents: DocumentStore) -> None:
        self.documents = documents

    async def append(self, case_id: str, entries: Iterable[Entry]) -> None:
        # Cut first (with a margin, so a secret at the cut is still seen whole), then redact: the
        # patterns never scan more than a few KB, whatever was pasted.
        new = [asdict(Entry(e.at, e.speaker, redact(e.text[: MAX_ENTRY + 256])[:MAX_ENTRY])) for e in entries]
        if not new:
            return
        # Sortable and unique: the turn's time, then a random tail for turns in the same microsecond.
        key = f"{self.PREFIX}{case_id}/{time.time():017.6f}-{secrets.token_hex(4)}"
        await self.documents.write(key, {"entries": new}, None)

    async def read(self, case_id: str, max_chars: int = MAX_TRANSCRIPT) -> list[Entry]:
        """The case's transcript in order; beyond `max_chars` only its most recent part, after a line
        saying how much was left out (what support, the admin or a handoff is sent stays bounded)."""
        turns = await self.documents.read_prefix(f"{self.PREFIX}{case_id}/")
        entries = [Entry(**e) for key in sorted(turns) for e in turns[key]["entries"]]
        kept, size = [], 0
        for item in reversed(entries):
            size += len(item.text)
            if size > max_chars:
                omitted = len(entries) - len(kept)
                kept.append(Entry(item.at, "bot", f"[{omitted} earlier transcript entries left out: the transcript is long]"))
                break
            kept.append(item)
        return kept[::-1]

    async def delete(self, case_ids: Iterable[str]) -> None:
        for case_id in case_ids:
            turns = await self.documents.read_prefix(f"{self.PREFIX}{case_id}/")
            await self.documents.delete(turns)


def format_transcript(entries: Iterable[Entry]) -> str:
    return "\n".join(f"{e.at} {e.speaker}: {e.text}" for e in entries)


def entry(speaker: str, text: str) -> Entry:
    return Entry(now_iso(), speaker, text)
