"""The read-only diagnostic scripts, one per place, loaded from scripts.toml and rendered with the
case's UPN through the playbook's own quoting (bot.playbook.render): the UPN is never pasted into a
script any other way."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.playbook.loader import PLACEHOLDER_RE
from bot.playbook.model import RUNS_IN, CommandBlock, Playbook
from bot.playbook.render import render_text

SCRIPTS_PATH = Path(__file__).with_name("scripts.toml")
PLACES = ("exo", "graph", "ad")
ALLOWED_PLACEHOLDERS = {"upn", "ad_upn_filter"}
# The verbs a diagnostic may use: it reads and prints, nothing else.
READ_VERBS = {"Get", "Select", "Where", "Sort", "ConvertTo", "Measure", "Format"}
_CMDLET = re.compile(r"(?<![\w$.-])([A-Za-z]+)-([A-Za-z][A-Za-z0-9]*)\b")


class ScriptsError(ValueError):
    """scripts.toml is broken; the message names the place."""


@dataclass(frozen=True)
class DiagnosticScript:
    place: str  # exo | graph | ad
    title: str
    runs_in: str  # a RUNS_IN key
    order: int
    why: str
    before: str
    script: str  # with {upn} / {ad_upn_filter} placeholders
    only_when_synced: bool = False

    @property
    def where(self) -> str:
        return RUNS_IN[self.runs_in]

    def block(self) -> CommandBlock:
        """As a playbook command block (the cmdlet-reference test checks it like every command)."""
        return CommandBlock({"modern": self.script, "original": self.script}, (self.runs_in,))


@dataclass(frozen=True)
class Scripts:
    marker: str
    version: int
    places: dict[str, DiagnosticScript]

    def ordered(self) -> list[DiagnosticScript]:
        return sorted(self.places.values(), key=lambda s: s.order)


def cmdlets_in(script: str) -> list[tuple[str, str]]:
    """(verb, noun) of every Verb-Noun word outside single-quoted strings, however deeply nested."""
    stripped = re.sub(r"'(?:[^']|'')*'", "''", script)
    # -ErrorAction and friends are parameters, not cmdlets; mS-DS-ConsistencyGuid is an attribute.
    return [(m.group(1), m.group(2)) for m in _CMDLET.finditer(stripped) if m.group(1) not in ("mS",)]


def _check(place: str, entry: dict) -> DiagnosticScript:
    where = f"scripts.toml [places.{place}]"
    for key in ("title", "runs_in", "order", "why", "before", "script"):
        if key not in entry:
            raise ScriptsError(f"{where}: '{key}' is missing")
    if entry["runs_in"] not in RUNS_IN:
        raise ScriptsError(f"{where}: runs_in '{entry['runs_in']}' is not one of {sorted(RUNS_IN)}")
    script = entry["script"].strip()
    unknown = set(PLACEHOLDER_RE.findall(script)) - ALLOWED_PLACEHOLDERS
    if unknown:
        raise ScriptsError(f"{where}: unknown placeholder(s) {sorted(unknown)}")
    if "{upn}" not in script:
        raise ScriptsError(f"{where}: the script must use {{upn}}")
    for verb, noun in cmdlets_in(script):
        if verb not in READ_VERBS:
            raise ScriptsError(f"{where}: {verb}-{noun} is not a reading cmdlet; a diagnostic only reads")
    return DiagnosticScript(
        place,
        entry["title"],
        entry["runs_in"],
        int(entry["order"]),
        entry["why"],
        entry["before"],
        script,
        bool(entry.get("only_when_synced", False)),
    )


def load_scripts(path: Path | str = SCRIPTS_PATH) -> Scripts:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScriptsError(f"scripts.toml cannot be read: {exc}") from exc
    places = data.get("places", {})
    if set(places) != set(PLACES):
        raise ScriptsError(f"scripts.toml must define exactly the places {list(PLACES)}, found {sorted(places)}")
    scripts = Scripts(str(data.get("marker", "")), int(data.get("version", 0)), {p: _check(p, places[p]) for p in PLACES})
    if not re.fullmatch(r"[A-Z][A-Z-]{5,40}", scripts.marker) or scripts.version < 1:
        raise ScriptsError("scripts.toml: marker must be capitals and hyphens, version a positive number")
    for place, script in scripts.places.items():
        if f"'{scripts.marker} {scripts.version} {place} '" not in script.script:
            raise ScriptsError(
                f"scripts.toml [places.{place}]: the script must print '{scripts.marker} {scripts.version} {place} '"
            )
    return scripts


@lru_cache(maxsize=1)
def default_scripts() -> Scripts:
    return load_scripts()


def render_script(script: DiagnosticScript, playbook: Playbook, upn: str) -> str:
    """The script with the case's UPN in it, quoted as every command is."""
    return render_text(script.script, playbook, {"upn": upn})
