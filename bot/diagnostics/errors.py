"""The catalog of pasted errors (bot/playbook/errors.toml): what to look for, what it means, what
to do. Loaded once and validated; a broken file refuses to load with a message naming the entry."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ERRORS_PATH = Path(__file__).resolve().parents[1] / "playbook" / "errors.toml"
MAX_SCAN = 20_000  # an error is matched within the first characters of the text
MAX_REGEX = 200
MAX_WAIT = 24 * 60


class CatalogError(ValueError):
    """errors.toml is broken; the message names the entry."""


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    meaning: str
    action: str
    match: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None
    wait_minutes: int = 0

    def matches(self, text: str) -> bool:
        folded = text.casefold()
        if any(m.casefold() in folded for m in self.match):
            return True
        return bool(self.regex and self.regex.search(text))


def _entry(n: int, raw: dict) -> CatalogEntry:
    where = f"errors.toml entry {n} ({raw.get('id', 'no id')})"
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", entry_id):
        raise CatalogError(f"{where}: id must be lower case letters, digits and underscores")
    for key in ("meaning", "action"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CatalogError(f"{where}: '{key}' is missing")
    match = raw.get("match", [])
    if not isinstance(match, list) or not all(isinstance(m, str) and len(m) >= 3 for m in match):
        raise CatalogError(f"{where}: 'match' must be a list of texts of 3 characters or more")
    regex = None
    if "regex" in raw:
        source = raw["regex"]
        if not isinstance(source, str) or len(source) > MAX_REGEX or re.search(r"\\[1-9]|\(\?P=", source):
            raise CatalogError(f"{where}: 'regex' must be one expression of at most {MAX_REGEX} characters, no backreferences")
        try:
            regex = re.compile(source, re.IGNORECASE)
        except re.error as exc:
            raise CatalogError(f"{where}: 'regex' does not compile ({exc})") from exc
    if not match and regex is None:
        raise CatalogError(f"{where}: give 'match' or 'regex'")
    wait = raw.get("wait_minutes", 0)
    if not isinstance(wait, int) or not 0 <= wait <= MAX_WAIT:
        raise CatalogError(f"{where}: 'wait_minutes' must be a whole number of minutes up to {MAX_WAIT}")
    unknown = set(raw) - {"id", "match", "regex", "meaning", "action", "wait_minutes"}
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}")
    return CatalogEntry(entry_id, raw["meaning"].strip(), raw["action"].strip(), tuple(match), regex, wait)


def load_catalog(path: Path | str = ERRORS_PATH) -> tuple[CatalogEntry, ...]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"errors.toml cannot be read: {exc}") from exc
    if data.get("schema_version") != 1:
        raise CatalogError("errors.toml: schema_version must be 1")
    entries = tuple(_entry(n, raw) for n, raw in enumerate(data.get("errors", []), start=1))
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"errors.toml: the id(s) {duplicates} are used twice")
    return entries


@lru_cache(maxsize=1)
def default_catalog() -> tuple[CatalogEntry, ...]:
    return load_catalog()


def match_error(text: str, catalog: tuple[CatalogEntry, ...] | None = None) -> CatalogEntry | None:
    """The first catalog entry the pasted text matches, or None (an unknown error keeps today's path)."""
    if not isinstance(text, str) or not text.strip():
        return None
    scanned = text[:MAX_SCAN]
    return next((e for e in (catalog or default_catalog()) if e.matches(scanned)), None)
