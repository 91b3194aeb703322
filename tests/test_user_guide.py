"""The user guide's commands table says what the help card says: every help line of the command
registry (dialogs.commands.REGISTRY.help_rows()) has a row in docs/user-guide.md whose first cell
is the line's words, written `like this`. A command added to the registry without its row fails
here, and the check is proved to bite with a registry that has one row more."""

from __future__ import annotations

import re
from pathlib import Path

from dialogs.commands import REGISTRY, CommandSpec, Registry

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user-guide.md"
SECTION = "## Commands"
ROW = re.compile(r"^\|(?P<first>[^|\n]*)\|", re.MULTILINE)


def commands_section(text: str) -> str:
    """The guide's "## Commands" section, up to the next heading of its level."""
    start = text.index(SECTION) + len(SECTION)
    following = re.search(r"^## ", text[start:], re.MULTILINE)
    return text[start : start + following.start()] if following else text[start:]


def first_cells(text: str) -> set[str]:
    """The first cell of every row of the tables in the commands section, trimmed."""
    return {match.group("first").strip() for match in ROW.finditer(commands_section(text))}


def missing_rows(registry: Registry, text: str) -> list[str]:
    """The registry's help words that have no row of their own in the guide's commands table."""
    cells = first_cells(text)
    return [words for words, _ in registry.help_rows() if f"`{words}`" not in cells]


def guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def test_every_help_line_of_the_registry_is_in_the_user_guide():
    missing = missing_rows(REGISTRY, guide())
    assert not missing, (
        f"docs/user-guide.md has no row in its commands table for {missing}: add "
        "'| `words` | what it does |' under '## Commands' (the words as in dialogs/commands.py)"
    )


def test_the_registry_has_help_lines_to_check():
    assert len(REGISTRY.help_rows()) >= 10
    assert "`help`" in first_cells(guide())


def test_a_registry_row_missing_from_the_guide_fails_the_check():
    extra = CommandSpec("frobnicate", ("frob",), ("frobnicate", "a command the guide does not know"))
    registry = Registry((*REGISTRY.specs.values(), extra))
    assert missing_rows(registry, guide()) == ["frobnicate"]


def test_words_only_in_prose_or_another_section_do_not_count():
    text = (
        "# Guide\n\nSay `frobnicate` any time.\n\n## Commands\n\n| say | does |\n|---|---|\n"
        "| `help` | what you can say |\n| see `frobnicate` | not its own row |\n\n"
        "## Later\n\n| `frobnicate` | a row in another section |\n"
    )
    registry = Registry(
        (
            CommandSpec("help", ("?",), ("help", "what you can say")),
            CommandSpec("frobnicate", ("frob",), ("frobnicate", "no row")),
        )
    )
    assert missing_rows(registry, text) == ["frobnicate"]
