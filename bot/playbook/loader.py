"""Load the playbook TOML and refuse it, with every problem named, when it is broken.

The bot does not start with a broken playbook: a support engineer who mistypes a step id or a
placeholder learns it from the test run, with the leaf and step named, not from an admin.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.playbook.model import (
    DEADLINE_KINDS,
    DIALECTS,
    ENDS,
    OUTCOMES,
    RUNS_IN,
    CheckStep,
    CommandBlock,
    Leaf,
    Link,
    Option,
    Placeholder,
    Playbook,
    Question,
    Step,
)
from bot.playbook.values import VALIDATORS

DEFAULT_PATH = Path(__file__).with_name("playbook.toml")
# Links and synonyms playbook.toml does not carry yet; used only where it says nothing itself.
PLACEHOLDER_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
SCHEMA_VERSION = 1
SOURCES = ("seed", "added")
_STEP_FIELDS = {
    "id",
    "use",
    "title",
    "why",
    "modern",
    "original",
    "look_for",
    "manual",
    "ask",
    "collect",
    "when",
    "on_failure",
    "failure_note",
    "destructive",
    "warning",
    "record",
    "wait_minutes",
    "wait_check",
    "admin_center",
    "resolves",
    "check_every_minutes",
    "runs_in",
    "blocks",
}
# Commands that destroy data for good: the bot never offers them, whatever a playbook edit says.
# A purge is for Microsoft Support to decide, once the admin is sure nothing is left to save.
DESTROYS_FOR_GOOD = (
    (re.compile(r"\bRemove-MgDirectoryDeletedItem\b", re.IGNORECASE), "Remove-MgDirectoryDeletedItem purges the deleted object"),
    (re.compile(r"-PermanentlyDelete\b", re.IGNORECASE), "-PermanentlyDelete purges the mailbox"),
    (
        re.compile(r"-PermanentlyClearPreviousMailboxInfo\b", re.IGNORECASE),
        "Set-User -PermanentlyClearPreviousMailboxInfo erases the link to the old mailbox",
    ),
    (re.compile(r"-RemoveFromRecycleBin\b", re.IGNORECASE), "Remove-MsolUser -RemoveFromRecycleBin purges the user"),
    (re.compile(r"\bRemove-AzureADMSDeletedDirectoryObject\b", re.IGNORECASE), "it purges the deleted object"),
)


class PlaybookError(Exception):
    """The playbook file is broken; the message lists every problem found."""

    def __init__(self, problems: list[str], path: Path | str = "") -> None:
        self.problems = problems
        where = f" ({path})" if path else ""
        super().__init__(f"The playbook{where} is broken:\n- " + "\n- ".join(problems))


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlaybookError([f"cannot read it: {exc}"], path) from exc


def load_playbook(path: Path | str = DEFAULT_PATH) -> Playbook:
    path = Path(path)
    return build_playbook(_read(path), path)


def build_playbook(data: dict[str, Any], path: Path | str = "") -> Playbook:
    problems: list[str] = []
    try:
        playbook = _build(data, problems)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # A missing or mistyped field: say which, rather than a traceback.
        problems.append(f"malformed entry: {type(exc).__name__}: {exc}")
        raise PlaybookError(problems, path) from exc
    if problems:
        raise PlaybookError(problems, path)
    return playbook


def _text(entry: dict[str, Any], key: str, where: str, problems: list[str], required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append(f"{where}: '{key}' is missing or empty")
        return ""
    return value.strip()


def _options(raw: Iterable[dict[str, Any]], where: str, problems: list[str]) -> tuple[Option, ...]:
    options = []
    for entry in raw:
        oid = _text(entry, "id", where, problems)
        end = entry.get("end")
        if end is not None and end not in ENDS:
            problems.append(f"{where}, option '{oid}': end '{end}' is not one of {', '.join(ENDS)}")
        options.append(
            Option(
                oid,
                _text(entry, "label", f"{where}, option '{oid}'", problems),
                _text(entry, "meaning", f"{where}, option '{oid}'", problems),
                end,
                entry.get("note"),
                bool(entry.get("continues", False)),
                tuple(str(s) for s in entry.get("synonyms", ())),
            )
        )
    if len(options) < 2:
        problems.append(f"{where}: needs at least two options")
    if len({o.id for o in options}) != len(options):
        problems.append(f"{where}: option ids repeat")
    meant: dict[str, str] = {}
    for number, option in enumerate(options, start=1):
        for said in option.phrases(number):
            if meant.setdefault(said, option.id) != option.id:
                problems.append(f"{where}: '{said}' would mean both '{meant[said]}' and '{option.id}'")
    return tuple(options)


def _links(raw: Iterable[dict[str, Any]], problems: list[str]) -> tuple[Link, ...]:
    links = []
    for entry in raw:
        title = _text(entry, "title", "closing, link", problems)
        url = _text(entry, "url", f"closing, link '{title}'", problems)
        if url and not url.startswith("https://"):
            problems.append(f"closing, link '{title}': the url must start with https://")
        links.append(Link(title, url))
    return tuple(links)


def _commands(entry: dict[str, Any]) -> MappingProxyType:
    return MappingProxyType({d: str(entry.get(d, "")).strip() for d in DIALECTS})


def _runs_in(entry: dict[str, Any], where: str, problems: list[str]) -> tuple[str, ...]:
    places = entry.get("runs_in", [])
    if isinstance(places, str):
        places = [places]
    for place in places:
        if place not in RUNS_IN:
            problems.append(f"{where}: runs_in '{place}' is not one of {', '.join(RUNS_IN)}")
    return tuple(places)


def _question(qid: str, raw: dict[str, Any], kind: str, problems: list[str]) -> Question:
    where = f"{kind} '{qid}'"
    checks = []
    for n, c in enumerate(raw.get("check", []), start=1):
        at = f"{where}, check {n}"
        check = CheckStep(_text(c, "text", at, problems), _commands(c), _runs_in(c, at, problems))
        if any(check.commands.values()) and not check.runs_in:
            problems.append(f"{at}: say where its commands run ('runs_in')")
        _refuse_destroying(check.commands, at, problems)
        checks.append(check)
    return Question(
        qid,
        _text(raw, "prompt", where, problems),
        _options(raw.get("options", []), where, problems),
        raw.get("help", ""),
        tuple(checks),
    )


def _refuse_destroying(commands: Any, where: str, problems: list[str]) -> None:
    for dialect in DIALECTS:
        for pattern, why in DESTROYS_FOR_GOOD:
            if pattern.search(commands.get(dialect, "")):
                problems.append(f"{where}: the {dialect} command destroys data for good ({why}); the bot never offers it")


def _blocks(merged: dict[str, Any], where: str, problems: list[str]) -> tuple[CommandBlock, ...]:
    """A step's command blocks: its own `modern`/`original`, or its `blocks` (alternatives,
    each with the condition under which to run it)."""
    step_places = _runs_in(merged, where, problems)
    raw_blocks = merged.get("blocks")
    if raw_blocks is None:
        commands = _commands(merged)
        if not any(commands.values()):
            return ()
        if not step_places:
            problems.append(f"{where}: say where its commands run ('runs_in')")
        if {"graph", "exchange_online"} <= set(step_places):
            problems.append(f"{where}: Graph and Exchange Online commands run in two windows; give each its own block")
        return (CommandBlock(commands, step_places),)
    if merged.get("modern") or merged.get("original"):
        problems.append(f"{where}: has both 'blocks' and its own commands; put every command in a block")
    blocks = []
    for n, raw in enumerate(raw_blocks, start=1):
        at = f"{where}, block {n}"
        places = _runs_in(raw, at, problems) or step_places
        if not places:
            problems.append(f"{at}: say where its commands run ('runs_in')")
        condition = raw.get("condition", "")
        if len(raw_blocks) > 1 and not condition.strip():
            problems.append(f"{at}: one of several alternatives needs its 'condition'")
        if {"graph", "exchange_online"} <= set(places):
            problems.append(f"{at}: Graph and Exchange Online commands run in two windows; give each its own block")
        blocks.append(CommandBlock(_commands(raw), places, condition.strip()))
    return tuple(blocks)


def _step(raw: dict[str, Any], library: dict[str, dict[str, Any]], where: str, problems: list[str]) -> Step:
    unknown = set(raw) - _STEP_FIELDS
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    merged: dict[str, Any] = {}
    if "use" in raw:
        base = library.get(raw["use"])
        if base is None:
            problems.append(f"{where}: uses library step '{raw['use']}', which does not exist")
        else:
            merged.update(base)
            merged["id"] = raw["use"]
    merged.update({k: v for k, v in raw.items() if k != "use"})
    sid = merged.get("id") or ""
    if not sid:
        problems.append(f"{where}: has neither 'id' nor 'use'")
    where = f"{where} ('{sid}')"
    blocks = _blocks(merged, where, problems)
    for block in blocks:
        _refuse_destroying(block.commands, where, problems)
    return Step(
        id=sid,
        title=_text(merged, "title", where, problems),
        why=_text(merged, "why", where, problems),
        commands=MappingProxyType({d: "\n".join(b.commands[d] for b in blocks if b.commands[d]) for d in DIALECTS}),
        blocks=blocks,
        runs_in=tuple(dict.fromkeys(p for b in blocks for p in b.runs_in)),
        look_for=merged.get("look_for", ""),
        manual=bool(merged.get("manual", False)),
        ask=merged.get("ask"),
        collect=tuple(merged.get("collect", ())),
        when=MappingProxyType(dict(merged.get("when", {}))),
        on_failure=merged.get("on_failure"),
        failure_note=merged.get("failure_note", ""),
        destructive=bool(merged.get("destructive", False)),
        warning=merged.get("warning", ""),
        record=tuple(merged.get("record", ())),
        wait_minutes=int(merged.get("wait_minutes", 0)),
        wait_check=merged.get("wait_check", ""),
        admin_center=merged.get("admin_center", ""),
        resolves=tuple(merged.get("resolves", ())),
        check_every_minutes=int(merged.get("check_every_minutes", 0)),
    )


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER_RE.findall(text)


def _build(data: dict[str, Any], problems: list[str]) -> Playbook:
    if data.get("schema_version") != SCHEMA_VERSION:
        problems.append(f"schema_version must be {SCHEMA_VERSION}, found {data.get('schema_version')!r}")

    placeholders = {}
    for name, raw in data.get("placeholders", {}).items():
        kind = raw.get("kind")
        if kind not in VALIDATORS:
            problems.append(f"placeholder '{name}': kind '{kind}' is not one of {', '.join(VALIDATORS)}")
        placeholders[name] = Placeholder(
            name, _text(raw, "label", f"placeholder '{name}'", problems), kind, raw.get("derive"), raw.get("escape")
        )
    for ph in placeholders.values():
        for part in placeholders_in(ph.derive or ""):
            if part not in placeholders or placeholders[part].derive:
                problems.append(f"placeholder '{ph.name}': derives from unknown or derived placeholder '{part}'")

    questions = tuple(_question(qid, raw, "question", problems) for qid, raw in data.get("questions", {}).items())
    if len(questions) != 3:
        problems.append(f"there must be three scoping questions, found {len(questions)}")
    subquestions = {qid: _question(qid, raw, "sub-question", problems) for qid, raw in data.get("subquestions", {}).items()}
    library = data.get("steps", {})

    every_leaf = tuple(str(q) for q in data.get("ask_every_leaf", ()))
    for sub in every_leaf:
        if sub not in subquestions:
            problems.append(f"ask_every_leaf names unknown sub-question '{sub}'")

    leaves: dict[str, Leaf] = {}
    by_answers: dict[tuple[str, ...], str] = {}
    by_situation: dict[str, str] = {}
    for raw in data.get("leaves", []):
        leaf = _leaf(raw, library, every_leaf, problems)
        if leaf.id in leaves:
            problems.append(f"leaf {leaf.id}: defined twice")
        leaves[leaf.id] = leaf
        if leaf.situation:
            if leaf.situation in by_situation:
                problems.append(f"leaf {leaf.id}: same situation as leaf {by_situation[leaf.situation]}")
            by_situation[leaf.situation] = leaf.id
        else:
            key = tuple(leaf.answers.get(q.id, "") for q in questions)
            if key in by_answers:
                problems.append(f"leaf {leaf.id}: same answers as leaf {by_answers[key]}")
            by_answers[key] = leaf.id
        _check_leaf(leaf, questions, subquestions, placeholders, problems)

    # Every combination of the three answers must lead to a leaf.
    for combo in itertools.product(*[[o.id for o in q.options] for q in questions]):
        if combo not in by_answers:
            shown = ", ".join(f"{q.id}={a}" for q, a in zip(questions, combo, strict=True))
            problems.append(f"no leaf for the answers {shown}")

    for q in questions:
        for check in q.check:
            _check_placeholders(" ".join(check.commands.values()), placeholders, f"question '{q.id}', check", problems)

    closing = data.get("closing", {})
    return Playbook(
        title=_text(data, "title", "playbook", problems),
        audience=data.get("audience", ""),
        estimated_time=data.get("estimated_time", ""),
        retired_note=_text(data, "retired_note", "playbook", problems),
        questions=questions,
        subquestions=MappingProxyType(subquestions),
        placeholders=MappingProxyType(placeholders),
        leaves=MappingProxyType(leaves),
        complete_text=_text(closing, "complete", "closing", problems),
        resources=tuple(closing.get("resources", ())),
        support_always=tuple(closing.get("support_always", ())),
        by_answers=MappingProxyType(by_answers),
        links=_links(closing.get("links", ()), problems),
        by_situation=MappingProxyType(by_situation),
        ask_every_leaf=every_leaf,
    )


SITUATION_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def _leaf(raw: dict[str, Any], library: dict[str, dict[str, Any]], every_leaf: tuple[str, ...], problems: list[str]) -> Leaf:
    lid = raw.get("id", "?")
    where = f"leaf {lid}"
    steps = tuple(_step(s, library, f"{where}, step {n}", problems) for n, s in enumerate(raw.get("steps", []), start=1))
    situation = raw.get("situation", "")
    if not isinstance(situation, str) or (situation and not SITUATION_RE.match(situation)):
        problems.append(f"{where}: situation must be an id such as 'recreated_user'")
        situation = ""
    if situation and raw.get("answers"):
        problems.append(f"{where}: has both 'answers' and a 'situation'; a leaf is reached by one or the other")
    own = tuple(raw.get("ask_first", ()))
    return Leaf(
        id=lid,
        situation=situation,
        answers=MappingProxyType({} if situation else dict(raw.get("answers", {}))),
        outcome=raw.get("outcome", ""),
        source=raw.get("source", ""),
        summary=_text(raw, "summary", where, problems),
        steps=steps,
        reference=raw.get("reference", ""),
        duration=raw.get("duration", ""),
        verify=raw.get("verify", ""),
        ask_first=tuple(dict.fromkeys((*every_leaf, *own))),
        support_needs=tuple(raw.get("support_needs", ())),
        differs=raw.get("differs", ""),
    )


def _check_placeholders(text: str, placeholders: dict[str, Placeholder], where: str, problems: list[str]) -> None:
    for name in placeholders_in(text):
        if name not in placeholders:
            problems.append(f"{where}: unknown placeholder {{{name}}}")


def _check_leaf(
    leaf: Leaf,
    questions: tuple[Question, ...],
    subquestions: dict[str, Question],
    placeholders: dict[str, Placeholder],
    problems: list[str],
) -> None:
    where = f"leaf {leaf.id}"
    for q in questions if not leaf.situation else ():
        if q.option(leaf.answers.get(q.id, "")) is None:
            problems.append(f"{where}: answer {q.id}={leaf.answers.get(q.id)!r} is not an option of that question")
    if leaf.outcome not in OUTCOMES:
        problems.append(f"{where}: outcome '{leaf.outcome}' is not one of {', '.join(OUTCOMES)}")
    if leaf.source not in SOURCES:
        problems.append(f"{where}: source '{leaf.source}' is not one of {', '.join(SOURCES)}")
    if leaf.source == "added" and not leaf.reference:
        problems.append(f"{where}: added guidance must name its 'reference'")
    if leaf.outcome == "support" and not leaf.support_needs:
        problems.append(f"{where}: a support leaf must say what support will need ('support_needs')")
    if leaf.outcome != "support" and not leaf.steps:
        problems.append(f"{where}: has no steps")

    asked = set()
    for sub in leaf.ask_first:
        if sub not in subquestions:
            problems.append(f"{where}: ask_first names unknown sub-question '{sub}'")
        asked.add(sub)
    ids = [s.id for s in leaf.steps]
    for n, step in enumerate(leaf.steps, start=1):
        at = f"{where}, step {n} ('{step.id}')"
        if ids.count(step.id) > 1:
            problems.append(f"{at}: step id used twice in the leaf")
        for dialect in DIALECTS:
            if not step.manual and not step.commands[dialect]:
                problems.append(f"{at}: no {dialect} command (mark the step manual = true if it has none)")
            if any(not b.commands[dialect] for b in step.blocks) and step.commands[dialect]:
                problems.append(f"{at}: a block has no {dialect} command")
            _check_placeholders(step.commands[dialect], placeholders, at, problems)
            if re.search(r"-AsPlainText|ConvertTo-SecureString\s+-String", step.commands[dialect]):
                problems.append(f"{at}: a password is typed into the {dialect} command; use Read-Host -AsSecureString")
        for name in (*step.collect, *step.record):
            if name not in placeholders:
                problems.append(f"{at}: collects or records unknown placeholder '{name}'")
        for sub, value in step.when.items():
            question = subquestions.get(sub)
            if question is None:
                problems.append(f"{at}: 'when' names unknown sub-question '{sub}'")
            elif question.option(value) is None:
                problems.append(f"{at}: 'when' {sub}={value!r} is not an option of that sub-question")
            elif sub not in asked:
                problems.append(f"{at}: depends on '{sub}', which is not asked before this step")
        if step.ask:
            if step.ask not in subquestions:
                problems.append(f"{at}: asks unknown sub-question '{step.ask}'")
            asked.add(step.ask)
        if step.destructive and (not step.warning or not step.record):
            problems.append(f"{at}: a destructive step needs a 'warning' and the values to 'record' first")
        if step.on_failure and step.on_failure not in ENDS:
            if step.on_failure not in ids:
                problems.append(f"{at}: on failure goes to step '{step.on_failure}', which the leaf does not have")
            elif ids.index(step.on_failure) <= n - 1:
                problems.append(f"{at}: on failure goes back to step '{step.on_failure}'; only later steps are allowed")
        if step.wait_minutes and not step.wait_check:
            problems.append(f"{at}: waits {step.wait_minutes} minutes but does not say how to check ('wait_check')")
        for kind in step.resolves:
            if kind not in DEADLINE_KINDS:
                problems.append(f"{at}: resolves '{kind}', which is not one of {', '.join(DEADLINE_KINDS)}")
        if step.check_every_minutes and not step.wait_minutes:
            problems.append(f"{at}: checks every {step.check_every_minutes} minutes but has no 'wait_minutes'")
        elif step.check_every_minutes > step.wait_minutes:
            problems.append(
                f"{at}: checks every {step.check_every_minutes} minutes, longer than its wait of {step.wait_minutes} minutes"
            )
        if step.check_every_minutes < 0 or step.wait_minutes < 0:
            problems.append(f"{at}: a negative wait or check interval")

    # A sub-question that branches (later steps run only for some answers) must lead each answer
    # somewhere: to an end, to a step of its own, or on with the common steps when the option
    # says so (`continues = true`, e.g. "not hybrid" simply skips the hybrid-only step).
    for sub in asked & set(subquestions):
        start = 0 if sub in leaf.ask_first else next(i for i, s in enumerate(leaf.steps) if s.ask == sub) + 1
        branches = {s.when[sub] for s in leaf.steps[start:] if sub in s.when}
        if not branches:
            continue
        for option in subquestions[sub].options:
            if not (option.end or option.continues or option.id in branches):
                problems.append(f"{where}: sub-question '{sub}' answer '{option.id}' leads nowhere")
