"""Fill a command template with the admin's values, each as one inert PowerShell string.

Known values become single-quoted literals; unknown ones stay visible as <hints> naming what to
put there (and which step reads it), so a half-known command is never silently wrong.
"""

from __future__ import annotations

from collections.abc import Mapping

from .loader import PLACEHOLDER_RE
from .model import Playbook
from .values import ps_quote


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
        parts[part] = value.replace("'", "''") if placeholder.escape == "odata" else value
    return PLACEHOLDER_RE.sub(lambda m: parts[m.group(1)], placeholder.derive)


def render_text(text: str, playbook: Playbook, values: Mapping[str, str], collected_at: Mapping[str, int] | None = None) -> str:
    collected_at = collected_at or {}

    def substitute(match) -> str:
        name = match.group(1)
        value = resolve(name, playbook, values)
        if value is not None:
            return ps_quote(value)
        hint = playbook.placeholders[name].label
        step = collected_at.get(name)
        return f"<{hint} from step {step}>" if step else f"<{hint}>"

    return PLACEHOLDER_RE.sub(substitute, text)


def render_commands(
    commands: Mapping[str, str],
    dialect: str,
    playbook: Playbook,
    values: Mapping[str, str],
    collected_at: Mapping[str, int] | None = None,
) -> str:
    return render_text(commands.get(dialect, ""), playbook, values, collected_at)
