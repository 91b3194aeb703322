"""Checks a card the way Teams and the Agents Playground will see it: against the Adaptive Cards
1.5 JSON schema (after swapping Teams-only elements for their fallbacks, as a 1.5 client does)
and with the adaptivecards library at maximum version 1.5."""

from __future__ import annotations

import json
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / ".cache" / "adaptive-card-1.5.schema.json"
JS_CHECK = ROOT / "tests" / "js" / "check_cards.js"
TEAMS_ONLY = {"CodeBlock"}  # rendered by Teams, unknown to 1.5: must carry a fallback
EVENT_NAMES = [
    "Hint",
    "ActionTypeNotAllowed",
    "CollectionCantBeEmpty",
    "Deprecated",
    "ElementTypeNotAllowed",
    "InteractivityNotAllowed",
    "InvalidPropertyValue",
    "MissingCardType",
    "PropertyCantBeNull",
    "TooManyActions",
    "UnknownActionType",
    "UnknownElementType",
    "UnsupportedCardVersion",
    "DuplicateId",
    "UnsupportedProperty",
    "RequiredInputsShouldHaveLabel",
    "RequiredInputsShouldHaveErrorMessage",
    "Other",
]


@lru_cache(maxsize=1)
def validator() -> jsonschema.Draft6Validator:
    if not SCHEMA_PATH.exists():
        raise AssertionError(f"{SCHEMA_PATH} is missing: run the README's test command (scripts/test.sh), which fetches it")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft6Validator(schema)


def as_seen_by_a_1_5_client(node: Any, problems: list[str], path: str = "card") -> Any:
    if isinstance(node, list):
        return [as_seen_by_a_1_5_client(item, problems, f"{path}[{i}]") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if node.get("type") in TEAMS_ONLY:
        if not isinstance(node.get("fallback"), dict):
            problems.append(f"{path}: {node['type']} has no fallback element, so clients other than Teams show nothing")
            return {"type": "TextBlock", "text": "(missing fallback)"}
        return as_seen_by_a_1_5_client(node["fallback"], problems, f"{path}.fallback")
    return {k: as_seen_by_a_1_5_client(v, problems, f"{path}.{k}") for k, v in node.items()}


def schema_problems(card: dict) -> list[str]:
    problems: list[str] = []
    seen = as_seen_by_a_1_5_client(card, problems)
    for error in validator().iter_errors(seen):
        deepest = jsonschema.exceptions.best_match(error.context) if error.context else error
        problems.append(f"schema: {'/'.join(map(str, deepest.absolute_path))}: {deepest.message[:300]}")
    return problems


def library_problems(cards: list[dict]) -> list[list[str]]:
    """Per card, the adaptivecards library's complaints (Teams-only elements with fallback excepted)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(cards, handle)
        name = handle.name
    try:
        output = subprocess.run(["node", str(JS_CHECK), name], cwd=ROOT, check=True, capture_output=True, text=True, timeout=120)
    finally:
        Path(name).unlink()
    results = json.loads(output.stdout)
    problems = []
    for result in results:
        card_problems = []
        for event in result["events"]:
            name = EVENT_NAMES[event["event"]] if isinstance(event["event"], int) else str(event["event"])
            if name == "UnknownElementType" and any(f'"{t}"' in event["message"] for t in TEAMS_ONLY):
                continue
            card_problems.append(f"{name}: {event['message']}")
        problems.append(card_problems)
    return problems


def rendered_as_markdown(node, found: list[str]) -> list[str]:
    """Every text a Teams client renders with Markdown: TextBlocks and facts (not TextRuns)."""
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            found.append(node.get("text", ""))
        if node.get("type") == "FactSet":
            found.extend(f"{f['title']} {f['value']}" for f in node.get("facts", []))
        if node.get("type") != "RichTextBlock":
            for value in node.values():
                rendered_as_markdown(value, found)
    elif isinstance(node, list):
        for item in node:
            rendered_as_markdown(item, found)
    return found
