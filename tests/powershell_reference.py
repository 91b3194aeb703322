"""A small PowerShell tokenizer and a checker of commands against Microsoft's cmdlet reference.

The reference is the project's own `bot/playbook/reference/cmdlets.json` (described, with its
provenance and how to refresh it, in the README beside it). The tokenizer knows just enough
PowerShell for the playbook's commands:
statements split by newlines, `;` and `|`; single- and double-quoted strings; groups `( )`,
`$( )`, `@( )`, `@{ }`, `{ }`, `[ ]`; variables; `-Parameter` and `-Parameter:value`; commas
joining an array argument; and `$var = <command>` assignments.

problems_in checks a block of the playbook's commands against the reference (the playbook's and
the diagnostic scripts' tests use it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from bot.playbook import Playbook, load_playbook, render_blocks
from bot.playbook.model import CommandBlock
from tests.walker import SAMPLE_VALUES

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "bot" / "playbook" / "reference" / "cmdlets.json"

EXCHANGE_ONLINE = "Exchange Online"
EXCHANGE_SERVER = re.compile(r"^Exchange Server")
AUTOMATIC_VARIABLES = {"_", "true", "false", "null", "psitem"}


class TokenizeError(ValueError):
    pass


@dataclass
class Word:
    """One whitespace-separated argument: its text and the groups nested in it."""

    text: str
    groups: list[tuple[str, str]] = field(default_factory=list)  # (opener, inner text)


@dataclass
class Command:
    name: str
    words: list[Word]
    piped: bool  # receives pipeline input


@dataclass
class Reference:
    cmdlets: dict[str, dict]
    common: set[str]
    common_aliases: set[str]
    aliases: dict[str, str]

    def find(self, name: str) -> tuple[str, dict] | None:
        lowered = name.lower()
        real = self.aliases.get(lowered, lowered)
        for key, entry in self.cmdlets.items():
            if key.lower() == real:
                return key, entry
        return None


def load_reference() -> Reference:
    data = json.loads(REFERENCE.read_text(encoding="utf-8"))
    cmdlets = dict(data["cmdlets"])
    aliases = {}
    for name, entry in cmdlets.items():
        for alias in entry.get("cmdlet_aliases", []):
            aliases[alias.lower()] = name.lower()
    return Reference(
        cmdlets,
        {p.lower() for p in data["common_parameters"]},
        {a.lower() for a in data["common_parameter_aliases"]},
        aliases,
    )


# --- tokenizer ------------------------------------------------------------------------------

CLOSERS = {"(": ")", "$(": ")", "@(": ")", "@{": "}", "{": "}", "[": "]"}


def _read_string(text: str, i: int) -> int:
    """Index just past the string that starts at text[i]."""
    quote = text[i]
    i += 1
    while i < len(text):
        ch = text[i]
        if quote == '"' and ch == "`":
            i += 2
            continue
        if ch == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    raise TokenizeError(f"unterminated {quote}-quoted string: {text[:60]!r}")


def _past_nested(text: str, i: int) -> int | None:
    """Index just past the string or group (subexpression, array, hashtable) starting at text[i],
    or None when none starts there."""
    if text[i] in "'\"":
        return _read_string(text, i)
    two = text[i : i + 2]
    if two in ("$(", "@(", "@{"):
        return _read_group(text, i, two)
    if text[i] in "({[":
        return _read_group(text, i, text[i])
    return None


def _read_group(text: str, i: int, opener: str) -> int:
    """Index just past the group whose opener starts at text[i]."""
    closer = CLOSERS[opener]
    i += len(opener)
    while i < len(text):
        ch = text[i]
        past = _past_nested(text, i)
        if past is not None:
            i = past
            continue
        if ch in ")}]":
            if ch != closer:
                raise TokenizeError(f"'{ch}' closes a group opened with '{opener}'")
            return i + 1
        i += 1
    raise TokenizeError(f"unclosed '{opener}'")


def split_statements(text: str) -> list[list[str]]:
    """Statements (split by newlines and ';'), each a list of pipeline elements (split by '|')."""
    statements: list[list[str]] = []
    current: list[str] = []
    start = i = 0

    def cut(end: int) -> None:
        nonlocal start
        current.append(text[start:end].strip())
        start = end + 1

    while i < len(text):
        ch = text[i]
        past = _past_nested(text, i)
        if past is not None:
            i = past
            continue
        if ch in ")}]":
            raise TokenizeError(f"unbalanced '{ch}'")
        if ch in "<>":
            raise TokenizeError(
                f"a bare '{ch}' outside a string (a <hint> must be quoted; PowerShell reads '>' as a redirection)"
            )
        if ch == "#" and (i == 0 or text[i - 1].isspace()):
            raise TokenizeError("comments are not allowed in commands: put the explanation in the step's text")
        if ch == "|":
            cut(i)
        elif ch in "\n;":
            cut(i)
            if any(current):
                statements.append([p for p in current])
            current = []
        i += 1
    cut(len(text))
    if any(current):
        statements.append(current)
    for statement in statements:
        if any(not element for element in statement):
            raise TokenizeError(f"empty pipeline element in {' | '.join(statement)!r}")
    return statements


def words_of(element: str) -> list[Word]:
    """Whitespace-separated words; commas join an array argument into one word."""
    words: list[Word] = []
    i = 0
    current = ""
    groups: list[tuple[str, str]] = []

    def flush() -> None:
        nonlocal current, groups
        if current:
            words.append(Word(current, groups))
        current, groups = "", []

    while i < len(element):
        ch = element[i]
        if ch.isspace():
            flush()
            i += 1
            continue
        if ch in "'\"":
            end = _read_string(element, i)
            current += element[i:end]
            i = end
            continue
        two = element[i : i + 2]
        opener = two if two in ("$(", "@(", "@{") else ch if ch in "({[" else None
        if opener:
            end = _read_group(element, i, opener)
            groups.append((opener, element[i + len(opener) : end - 1]))
            current += element[i:end]
            i = end
            continue
        current += ch
        i += 1
    flush()
    merged: list[Word] = []
    for word in words:
        joins = merged and (merged[-1].text.endswith(",") or word.text.startswith(","))
        if joins:
            merged[-1] = Word(merged[-1].text + " " + word.text, merged[-1].groups + word.groups)
        else:
            merged.append(word)
    return merged


COMMAND_NAME = re.compile(r"^(?:[A-Za-z]+-[A-Za-z0-9]+|select|where|\?|ipmo|fl|ft|nsn|foreach|%)$", re.IGNORECASE)
PARAMETER = re.compile(r"^-([A-Za-z][A-Za-z0-9]*)(:.*)?$")


def commands_in(text: str) -> list[Command]:
    """Every command in the text, including those nested in ( ), $( ) and @( ) groups."""
    found: list[Command] = []
    for statement in split_statements(text):
        for position, element in enumerate(statement):
            words = words_of(element)
            if len(words) >= 2 and words[0].text.startswith("$") and words[1].text == "=":
                words = words[2:]  # $var = <command or expression>
            if words and COMMAND_NAME.match(words[0].text):
                found.append(Command(words[0].text, words[1:], piped=position > 0))
            for word in words:
                for opener, inner in word.groups:
                    if opener in ("(", "$(", "@("):
                        found.extend(commands_in(inner))
    return found


def assigned_variables(text: str) -> set[str]:
    return {m.lower() for m in re.findall(r"^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*=", text, re.MULTILINE)}


def used_variables(text: str) -> set[str]:
    """Variables read outside single-quoted strings (a single-quoted string never expands one)."""
    stripped = re.sub(r"'(?:[^']|'')*'", "''", text)
    return {m.lower() for m in re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", stripped)} - AUTOMATIC_VARIABLES


# --- checker --------------------------------------------------------------------------------


def _resolve_parameter(name: str, entry: dict, reference: Reference) -> tuple[str | None, str]:
    """(canonical parameter name, '') or (None, why not)."""
    lowered = name.lower()
    params = entry["parameters"]
    for real, info in params.items():
        if real.lower() == lowered or lowered in (a.lower() for a in info.get("aliases", [])):
            return real, ""
    if lowered in reference.common or lowered in reference.common_aliases:
        return "<common>", ""
    prefixed = [real for real in params if real.lower().startswith(lowered)]
    prefixed += [c for c in reference.common if c.startswith(lowered)]
    if len(prefixed) == 1:
        return prefixed[0] if prefixed[0] in params else "<common>", ""
    if len(prefixed) > 1:
        return None, f"-{name} is ambiguous ({', '.join(sorted(prefixed))})"
    return None, f"-{name} is not a parameter of it"


def check_command(
    command: Command, reference: Reference, on_premises_exchange: bool, defined_functions: set[str] = frozenset()
) -> list[str]:
    """Problems with one command; an empty list means it binds."""
    if command.name.lower() in defined_functions:
        return []
    found = reference.find(command.name)
    if found is None:
        return [f"{command.name}: not in the cmdlet reference (add it to {REFERENCE.name} from Microsoft's reference)"]
    cmdlet, entry = found
    problems: list[str] = []
    named: list[str] = []
    positional_values = 0
    words = command.words
    i = 0
    while i < len(words):
        match = PARAMETER.match(words[i].text)
        if not match:
            positional_values += 1
            i += 1
            continue
        real, why = _resolve_parameter(match.group(1), entry, reference)
        if real is None:
            problems.append(f"{cmdlet}: {why}")
            i += 1
            continue
        if real != "<common>":
            named.append(real)
        takes_value = real == "<common>" or "SwitchParameter" not in entry["parameters"][real]["type"]
        if real == "<common>":
            takes_value = not match.group(1).lower().startswith(("verbose", "vb", "debug", "db"))
        i += 1
        if takes_value and match.group(2) is None:
            if i >= len(words):
                problems.append(f"{cmdlet}: -{match.group(1)} needs a value")
            else:
                i += 1
    if problems:
        return problems

    for real in named:
        products = entry["parameters"][real].get("products", [])
        if any(EXCHANGE_SERVER.match(p) or p == EXCHANGE_ONLINE for p in products):
            if on_premises_exchange and not any(EXCHANGE_SERVER.match(p) for p in products):
                problems.append(f"{cmdlet}: -{real} does not apply to on-premises Exchange (only {', '.join(products)})")
            if not on_premises_exchange and EXCHANGE_ONLINE not in products:
                problems.append(
                    f"{cmdlet}: -{real} does not apply to Exchange Online (only {', '.join(products)}); "
                    "mark the step runs_in = ['exchange_onprem'] if it runs in the Exchange Management Shell"
                )
    cmdlet_products = entry.get("products", [])
    if any(EXCHANGE_SERVER.match(p) or p == EXCHANGE_ONLINE for p in cmdlet_products):
        if not on_premises_exchange and EXCHANGE_ONLINE not in cmdlet_products:
            problems.append(f"{cmdlet}: not available in Exchange Online (only {', '.join(cmdlet_products)})")
        if on_premises_exchange and not any(EXCHANGE_SERVER.match(p) for p in cmdlet_products):
            problems.append(f"{cmdlet}: not available in on-premises Exchange (only {', '.join(cmdlet_products)})")

    fits = []
    for set_name, pset in entry["parameter_sets"].items():
        if not all(n in pset["parameters"] for n in named):
            continue
        positional = [p for p in pset.get("positional", []) if p not in named]
        if positional_values > len(positional):
            continue
        given = set(named) | set(positional[:positional_values])
        missing = [m for m in pset["mandatory"] if m not in given]
        if command.piped and len(missing) <= 1:
            missing = []  # the pipeline binds one (Identity, InputObject)
        if not missing:
            fits.append(set_name)
    if not fits:
        shown = " ".join(f"-{n}" for n in named) + (f" with {positional_values} positional value(s)" if positional_values else "")
        sets = "; ".join(f"{k} needs {', '.join(v['mandatory']) or 'nothing'}" for k, v in entry["parameter_sets"].items())
        problems.append(
            f"{cmdlet}: no parameter set takes {shown.strip() or 'no parameters'} with all its mandatory parameters ({sets})"
        )
    return problems


def is_retired(reference: Reference, name: str) -> bool:
    found = reference.find(name)
    return bool(found and found[1].get("retired"))


# --- the playbook's commands against the reference ---------------------------------------------
@cache
def shipped_reference() -> Reference:
    return load_reference()


@cache
def shipped_playbook() -> Playbook:
    return load_playbook()


# Which places a cmdlet may run in, by where the reference says it comes from.
PLACES_BY_PRODUCT = {
    "Microsoft Graph PowerShell v1.0": {"graph"},
    "MSOnline module (retired)": {"graph"},
    "Windows Server (ActiveDirectory module)": {"ad"},
    "Microsoft Entra Connect Sync server (ADSync module)": {"entra_connect"},
    "Exchange Online": {"exchange_online"},
}


def sample_values() -> dict[str, str]:
    return {name: SAMPLE_VALUES[p.kind] for name, p in shipped_playbook().placeholders.items() if not p.derive}


def allowed_places(entry: dict) -> set[str] | None:
    """None: runs anywhere (PowerShell's own cmdlets)."""
    places: set[str] = set()
    for product in entry.get("products", []):
        if product.startswith("Exchange Server"):
            places.add("exchange_onprem")
        places |= PLACES_BY_PRODUCT.get(product, set())
    return places or None


def problems_in(block: CommandBlock, dialect: str, where: str) -> list[str]:
    """What is wrong with the commands of `block` in `dialect` against the reference, each problem
    prefixed with `where`: rendered with sample values and again with every value unknown."""
    playbook, reference = shipped_playbook(), shipped_reference()
    problems: list[str] = []
    for values in (sample_values(), {}):
        for rendered in render_blocks([block], dialect, playbook, values):
            try:
                commands = commands_in(rendered.text)
            except TokenizeError as exc:
                problems.append(f"{where} [{dialect}]: does not tokenise: {exc}\n{rendered.text}")
                continue
            undefined = used_variables(rendered.text) - assigned_variables(rendered.text)
            if undefined:
                problems.append(f"{where} [{dialect}]: uses ${', $'.join(sorted(undefined))}, which the block never sets")
            on_premises = "exchange_onprem" in block.runs_in
            for command in commands:
                for problem in check_command(command, reference, on_premises):
                    problems.append(f"{where} [{dialect}]: {problem}")
                found = reference.find(command.name)
                if found is None:
                    continue
                name, entry = found
                if dialect == "modern" and (entry.get("retired") or name in ("New-PSSession", "Import-PSSession")):
                    problems.append(f"{where} [modern]: {name} is retired")
                places = allowed_places(entry)
                if places is not None and not places & set(block.runs_in):
                    problems.append(f"{where} [{dialect}]: {name} runs in {sorted(places)}, the block says {list(block.runs_in)}")
    return sorted(set(problems))
