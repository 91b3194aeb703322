"""The Adaptive Card vocabulary every card is built from (version 1.5, what Teams renders).

Cards are plain JSON dicts. Text someone typed goes through `as_written`, so that Markdown in it
is never rendered as a link; every CodeBlock (a Teams-only element) carries a
monospace fallback so that no command is ever invisible in a client that does not know it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.frozen_json import FrozenJson

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"


class Card(FrozenJson):
    """An Adaptive Card."""


def card(body: list[dict], actions: list[dict] | None = None) -> Card:
    result = Card({"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body})
    if actions:
        result["actions"] = actions
    return result


def text(value: str, **style: Any) -> dict:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def heading(value: str) -> dict:
    return text(value, size="Medium", weight="Bolder")


def data_loss_warning(value: str) -> dict:
    """The strongest style a card has: data that can be lost. Red, bold and larger, on a red band,
    so that nothing else on the card (headings included) outweighs it."""
    return {
        "type": "Container",
        "style": "attention",
        "items": [text(value, color="Attention", weight="Bolder", size="Medium")],
    }


def small_print(value: str) -> dict:
    """For support rather than the admin (the scenario's id): small and pale."""
    return text(value, size="Small", isSubtle=True)


def facts(pairs: Iterable[tuple[str, str]]) -> dict:
    return {"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in pairs]}


def values_shown(pairs: Iterable[tuple[str, str]]) -> list[dict]:
    """Recorded values (typed or pasted) with their labels: each value a TextRun, so Markdown in a
    value never renders (a FactSet's values do render Markdown in Teams)."""
    return [
        {
            "type": "RichTextBlock",
            "inlines": [{"type": "TextRun", "text": f"{label}: ", "weight": "Bolder"}, {"type": "TextRun", "text": value}],
        }
        for label, value in pairs
    ]


def submit(title: str, data: Mapping[str, Any], style: str | None = None) -> dict:
    action = {"type": "Action.Submit", "title": title, "data": dict(data)}
    if style:
        action["style"] = style
    return action


def open_url(title: str, url: str) -> dict:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def monospace(value: str) -> dict:
    """Text shown exactly as written (a RichTextBlock never renders Markdown)."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": value, "fontType": "Monospace"}]}


def code_block(command: str) -> dict:
    """A Teams CodeBlock; the fallback shows the same lines in monospace, one block per line,
    as TextRuns (never Markdown, which would eat PowerShell's * and _)."""
    lines = command.splitlines() or [""]
    fallback = {"type": "Container", "style": "emphasis", "items": [monospace(line) for line in lines]}
    return {"type": "CodeBlock", "codeSnippet": command, "language": "PowerShell", "fallback": fallback}


def as_written(value: str, **style: Any) -> dict:
    """Text someone typed, shown as written: a TextRun never renders Markdown, so
    `[Reset your MFA](https://evil.example)` stays text instead of becoming a live link."""
    return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": value, **style}]}


def clock_time(iso: str | None, zone: str = "") -> str:
    """'15:02 CET' in the admin's time zone (Teams sends it on every activity), '14:02 UTC' where
    none is known; '' when there is no time."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(time_zone(zone)) if zone else moment.astimezone(UTC)
    return local.strftime("%H:%M %Z") if zone else local.strftime("%H:%M UTC")


def time_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return UTC


def valid_zone(name: object) -> str:
    """The IANA zone name Teams sent, or '' for anything that is not one."""
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        return ""
    try:
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return ""
    return name


def short_time(iso: str | None) -> str:
    """'2026-11-25 17:04' from an ISO timestamp (UTC); '' when there is none."""
    return (iso or "")[:16].replace("T", " ")
