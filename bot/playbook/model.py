"""The playbook's shape: plain frozen dataclasses, no Bot Framework types."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DIALECTS = ("modern", "original")
OUTCOMES = {
    "self_service": "The data can be recovered by following the steps.",
    "support": "Microsoft Support is needed.",
    "nothing": "The mailbox is there: the steps check that nothing older is waiting to be recovered.",
    "new_mailbox": (
        "No mailbox is left to reconnect: a license removed less than 30 days ago may still bring the old one back;"
        " otherwise the user gets a new, empty mailbox and old mail can only come from a backup."
    ),
}
ENDS = ("support",)
DEADLINE_KINDS = ("entra_user", "mailbox", "license")  # bot.walkthrough.deadlines.KINDS
# Where a block of commands runs: part of the advice (a command pasted into the wrong shell fails
# or, worse, acts on the wrong directory). Labels per dialect: the original dialect's Entra
# commands are MSOnline, not Graph. Graph and Exchange Online run in two windows, each connected
# once: loaded into one PowerShell session their sign-in libraries conflict (msgraph-sdk-powershell
# issue 3394, "Method not found ... WithLogging").
RUNS_IN = {
    "exchange_online": "the Exchange Online window (Exchange Online PowerShell)",
    "graph": "the Graph window (Microsoft Graph PowerShell)",
    "exchange_onprem": "the on-premises Exchange Management Shell",
    "ad": "a domain-joined computer with the ActiveDirectory module",
    "entra_connect": "the Entra Connect server",
}
RUNS_IN_ORIGINAL = {**RUNS_IN, "graph": "MSOnline PowerShell (retired)"}


def phrase(text: str) -> str:
    """Typed words as compared with an answer: lower case, punctuation and hyphens as spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    meaning: str
    end: str | None = None
    note: str | None = None
    continues: bool = False  # goes on with the steps common to every answer
    synonyms: tuple[str, ...] = ()  # other words an admin may type for it ("gone", "cloud only")

    def phrases(self, number: int) -> set[str]:
        """Everything typed that means this option: its number, label, id and synonyms."""
        said = {str(number), self.label, self.label.split(" (")[0], self.id, *self.synonyms}
        return {phrase(s) for s in said} - {""}


@dataclass(frozen=True)
class CommandBlock:
    """Commands pasted together, in one place; `condition` says when to run them instead of
    the step's other blocks ("run one or the other")."""

    commands: Mapping[str, str]  # dialect -> command text
    runs_in: tuple[str, ...]
    condition: str = ""


@dataclass(frozen=True)
class CheckStep:
    text: str
    commands: Mapping[str, str]  # dialect -> command text (may be empty: an instruction only)
    runs_in: tuple[str, ...] = ()

    @property
    def blocks(self) -> tuple[CommandBlock, ...]:
        return (CommandBlock(self.commands, self.runs_in),) if any(self.commands.values()) else ()


@dataclass(frozen=True)
class Question:
    id: str
    prompt: str
    options: tuple[Option, ...]
    help: str = ""
    check: tuple[CheckStep, ...] = ()

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)

    def recognise(self, said: str) -> Option | None:
        """The option typed words stand for, or None (the loader refuses words naming two options)."""
        words = phrase(said)
        return next((o for n, o in enumerate(self.options, start=1) if words in o.phrases(n)), None)


@dataclass(frozen=True)
class Link:
    """A page the admin can open (Action.OpenUrl)."""

    title: str
    url: str


@dataclass(frozen=True)
class Placeholder:
    name: str
    label: str
    kind: str
    derive: str | None = None
    escape: str | None = None


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    why: str
    commands: Mapping[str, str]  # dialect -> every block's commands, joined (for search and transcript)
    blocks: tuple[CommandBlock, ...] = ()
    runs_in: tuple[str, ...] = ()
    look_for: str = ""
    manual: bool = False
    ask: str | None = None
    collect: tuple[str, ...] = ()
    when: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    on_failure: str | None = None
    failure_note: str = ""
    destructive: bool = False
    warning: str = ""
    record: tuple[str, ...] = ()
    wait_minutes: int = 0
    wait_check: str = ""
    admin_center: str = ""  # the same step in the Microsoft 365 admin center, offered before the PowerShell
    resolves: tuple[str, ...] = ()  # 30-day clocks (DEADLINE_KINDS) this step, once done, takes away
    # While wait_minutes has not passed, the dialog offers "Not yet: remind me in
    # check_every_minutes minutes" instead of treating a "no" as a failure.
    check_every_minutes: int = 0

    def applies(self, sub_answers: Mapping[str, str]) -> bool:
        """True when every condition is met; a condition not answered yet counts as not met."""
        return all(sub_answers.get(q) == v for q, v in self.when.items())


@dataclass(frozen=True)
class Leaf:
    id: str
    answers: Mapping[str, str]  # the three scoping answers; empty for a situation leaf
    outcome: str
    source: str
    summary: str
    steps: tuple[Step, ...]
    reference: str = ""
    duration: str = ""
    verify: str = ""
    ask_first: tuple[str, ...] = ()
    support_needs: tuple[str, ...] = ()
    differs: str = ""  # why this leaf departs from Microsoft's current walkthrough, if it does
    # A leaf reached not by the three answers but by evidence read from a pasted diagnostic
    # ("recreated_user", "license_removed", "auxiliary_archive"); such a leaf has no answers.
    situation: str = ""

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def index_of(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)


@dataclass(frozen=True)
class Playbook:
    title: str
    audience: str
    estimated_time: str
    retired_note: str
    questions: tuple[Question, ...]
    subquestions: Mapping[str, Question]
    placeholders: Mapping[str, Placeholder]
    leaves: Mapping[str, Leaf]
    complete_text: str
    resources: tuple[str, ...]
    support_always: tuple[str, ...]
    by_answers: Mapping[tuple[str, ...], str]  # (onprem, entra, mailbox) -> leaf id
    links: tuple[Link, ...] = ()  # the completion card's resources, as buttons
    by_situation: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # situation -> leaf id
    ask_every_leaf: tuple[str, ...] = ()  # sub-questions the loader puts first in every leaf's ask_first

    def question(self, question_id: str) -> Question | None:
        for q in self.questions:
            if q.id == question_id:
                return q
        return self.subquestions.get(question_id)

    def leaf_for(self, answers: Mapping[str, str]) -> Leaf | None:
        if any(q.id not in answers for q in self.questions):
            return None
        leaf_id = self.by_answers.get(tuple(answers[q.id] for q in self.questions))
        return self.leaves[leaf_id] if leaf_id else None

    def leaf_for_situation(self, situation: str) -> Leaf | None:
        """The leaf for a situation read from a diagnostic, or None when the playbook has none."""
        leaf_id = self.by_situation.get(situation)
        return self.leaves[leaf_id] if leaf_id else None
