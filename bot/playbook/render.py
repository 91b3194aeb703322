"""Fill a command template with the admin's values, each as one inert PowerShell string.

Known values become single-quoted literals. Unknown ones become single-quoted hints naming what
to put there (and which step reads it), such as '<display name from step 2>': still a valid
PowerShell string, so a half-known command never breaks the line or runs silently wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.playbook.loader import PLACEHOLDER_RE
from bot.playbook.model import RUNS_IN, RUNS_IN_ORIGINAL, CommandBlock, Playbook
from bot.playbook.values import ps_quote

# Retired: MSOnline, AzureAD, and Exchange remote PowerShell (a PSSession to Exchange Online).
# AD, Entra Connect and Exchange Online V3 commands are current in both dialects.
RETIRED_RE = re.compile(
    r"\b[A-Za-z]+-Msol[A-Za-z]*\b|\b[A-Za-z]+-AzureAD[A-Za-z]*\b|\bNew-PSSession\b|\bImport-PSSession\b", re.IGNORECASE
)


@dataclass(frozen=True)
class RenderedBlock:
    """One block as the card shows it."""

    condition: str  # when to run this block instead of the others; "" for the only block
    text: str  # the commands, values filled in
    runs_in: tuple[str, ...]
    where: str  # "Exchange Online PowerShell", "the Entra Connect server", ...
    retired: bool  # uses a retired cmdlet (MSOnline, AzureAD, remote PowerShell)


def resolve(name: str, playbook: Playbook, values: Mapping[str, str]) -> str | None:
    """The raw (unquoted) value of a placeholder, or None while it is unknown."""
    placeholder = playbook.placeholders[name]
    if not placeholder.derive:
        return values.get(name)
    parts: dict[str, str] = {}
    for part in PLACEHOLDER_RE.findall(placeholder.derive):
        value = values.get(part)
        if value is None:
            return None
        # OData and the AD filter language both write a quote inside a quoted literal as two.
        parts[part] = value.replace("'", "''") if placeholder.escape in ("odata", "ad_filter") else value
    return PLACEHOLDER_RE.sub(lambda m: parts[m.group(1)], placeholder.derive)


def hint(name: str, playbook: Playbook, collected_at: Mapping[str, int] | None = None) -> str:
    """What to put in place of an unknown value, as the admin reads it: <display name from step 2>."""
    label = playbook.placeholders[name].label
    step = (collected_at or {}).get(name)
    return f"<{label} from step {step}>" if step else f"<{label}>"


def render_text(text: str, playbook: Playbook, values: Mapping[str, str], collected_at: Mapping[str, int] | None = None) -> str:
    def substitute(match: re.Match) -> str:
        name = match.group(1)
        value = resolve(name, playbook, values)
        return ps_quote(value if value is not None else hint(name, playbook, collected_at))

    return PLACEHOLDER_RE.sub(substitute, text)


def render_commands(
    commands: Mapping[str, str],
    dialect: str,
    playbook: Playbook,
    values: Mapping[str, str],
    collected_at: Mapping[str, int] | None = None,
) -> str:
    return render_text(commands.get(dialect, ""), playbook, values, collected_at)


def where_label(runs_in: Iterable[str], dialect: str) -> str:
    labels = RUNS_IN_ORIGINAL if dialect == "original" else RUNS_IN
    names = [labels[p] for p in runs_in]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1] + " (one window)"


def uses_retired(commands: str) -> bool:
    return bool(RETIRED_RE.search(commands))


def render_blocks(
    blocks: Iterable[CommandBlock],
    dialect: str,
    playbook: Playbook,
    values: Mapping[str, str],
    collected_at: Mapping[str, int] | None = None,
) -> list[RenderedBlock]:
    """Each block with its condition, filled-in commands, where it runs and whether it is retired."""
    rendered = []
    for block in blocks:
        text = render_text(block.commands.get(dialect, ""), playbook, values, collected_at)
        if text:
            rendered.append(
                RenderedBlock(block.condition, text, block.runs_in, where_label(block.runs_in, dialect), uses_retired(text))
            )
    return rendered
