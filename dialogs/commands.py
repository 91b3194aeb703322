"""Every command an admin can say or click, in one registry: the words that mean it, its line on the
help card, and (in MainDialog) its handler. Parsing, dispatch and the help card are all derived from
`REGISTRY`, so adding a command is one entry here and one handler; the dialog refuses to start
when a command has no handler (never a crash mid-turn).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.cards import actions
from bot.walkthrough.case import CASE_ID_PATTERN

CASE_ID = re.compile(f"^{CASE_ID_PATTERN}$", re.IGNORECASE)


def normalise(text: str | None) -> str:
    """Typed words as compared with commands: lower case, single spaces, no closing '.' or '!'."""
    return " ".join((text or "").strip().lower().split()).rstrip(".!")


@dataclass(frozen=True)
class CommandSpec:
    name: str
    words: tuple[str, ...] = ()  # what the admin may type (normalised)
    help: tuple[str, str] | None = None  # (what to say, what it does) on the help card
    with_case_id: bool = False  # "<word> MR-XXXXXXXX" names one of the admin's cases
    prefix: str = ""  # typed text that starts with this ("remind me in 2 hours")


@dataclass(frozen=True)
class Said:
    """A command recognised in a turn, with the case it names (None: the current case)."""

    name: str
    case_id: str | None = None


class Registry:
    def __init__(self, specs: tuple[CommandSpec, ...]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.words: dict[str, str] = {}
        for spec in specs:
            for word in (spec.name, *spec.words) if spec.words else ():
                if self.words.setdefault(word, spec.name) != spec.name:
                    raise ValueError(f"'{word}' means both {self.words[word]} and {spec.name}")

    @property
    def names(self) -> set[str]:
        return set(self.specs)

    def parse(self, activity: Any) -> Said | None:
        """The command a typed message or a clicked button stands for, or None."""
        click = actions.decode(activity.value)
        if click is not None:
            if isinstance(click, actions.Command):  # a case number it names is echoed back: only a well-formed one
                case_id = click.case if click.case and CASE_ID.match(click.case) else None
                return Said(click.command, case_id) if click.command in self.specs else None
            name = getattr(click, "action", "")
            if name in self.specs and not self.specs[name].words:  # buttons that have no words
                return Said(name, getattr(click, "case", None))
            return None
        said = normalise(activity.text)
        for spec in self.specs.values():
            if spec.prefix and said.startswith(spec.prefix):
                return Said(spec.name)
        if said in self.words:
            return Said(self.words[said])
        word, _, rest = said.rpartition(" ")
        if word in self.words and CASE_ID.match(rest) and self.specs[self.words[word]].with_case_id:
            return Said(self.words[word], rest.upper())
        return None

    def help_rows(self) -> list[tuple[str, str]]:
        return [spec.help for spec in self.specs.values() if spec.help]


REGISTRY = Registry(
    (
        CommandSpec("help", ("?", "what can you do", "commands"), ("help", "what you can say, and where you are")),
        CommandSpec(
            "start", ("new", "new case", "begin", "start a recovery"), ("start", "start a new recovery case")
        ),
        CommandSpec("start new", ("start a new case",)),
        CommandSpec("continue", ("carry on",), with_case_id=True),
        CommandSpec(
            "resume",
            ("pick up",),
            ("resume", "continue your current case (or 'resume MR-XXXXXXXX' for another)"),
            with_case_id=True,
        ),
        CommandSpec("reopen", ("reopen it",), with_case_id=True),
        CommandSpec("start over", ("restart", "reset"), ("start over", "close this case and start again (asks first)")),
        CommandSpec("start over confirmed"),
        CommandSpec(
            "back",
            ("go back", "undo", "previous", "previous question", "previous step"),
            ("back / undo", "the previous question again, or reopen the previous step"),
        ),
        CommandSpec(
            "change answer",
            ("change an answer", "change my answer", "i picked the wrong answer", "wrong answer", "i chose the wrong answer"),
            ("change an answer", "pick an answer to change; the plan is worked out again"),
        ),
        CommandSpec(
            "cancel",
            ("stop", "quit", "exit", "put aside", "put it aside", "pause"),
            ("cancel / stop", "put this case aside ('resume' brings it back)"),
        ),
        CommandSpec("put aside confirmed"),
        CommandSpec("keep going"),  # the answer 'no' on the card that asked before closing or putting aside
        CommandSpec(
            "status",
            ("where am i",),
            ("status", "the current case: user, answers, steps ('status MR-XXXXXXXX' for another)"),
            with_case_id=True,
        ),
        CommandSpec("cases", ("my cases", "list cases"), ("cases", "your latest cases, open, finished and escalated")),
        CommandSpec("cases all", ("all cases", "all my cases", "list all cases"), ("cases all", "every case you have")),
        CommandSpec(
            "escalate",
            ("contact support", "support"),
            ("escalate", "hand the case to support with its transcript"),
            with_case_id=True,
        ),
        CommandSpec(
            "transcript",
            ("show transcript",),
            ("transcript", "this case's transcript ('transcript MR-XXXXXXXX' for another)"),
            with_case_id=True,
        ),
        CommandSpec("recheck", ("check again",), ("recheck", "ask Microsoft Graph again about the user")),
        CommandSpec(
            "commands modern",
            ("modern commands",),
            ("commands modern / commands original", "Graph + EXO V3 commands (default) or the walkthrough's retired ones"),
        ),
        CommandSpec("commands original", ("original commands",)),
        CommandSpec(
            "remind", help=("remind me in 2 hours", "come back to this case later (minutes, hours or days)"), prefix="remind me"
        ),
        CommandSpec(
            "not yet",
            ("not yet remind me", "still waiting", "still running", "it is still running"),
            ("not yet", "while a step waits for replication: I remind you when it is time to look again"),
        ),
        # Buttons only: the escalation form, reminder cards, deadline cards.
        CommandSpec(actions.EscalationSubmit.action),
        CommandSpec(actions.EscalationCancel.action),
        CommandSpec(actions.ReminderAction.action),
        CommandSpec(actions.ChangeAnswer.action),
    )
)
