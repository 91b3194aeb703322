"""The layout is the design: Bot Framework types stay at the edge, and imports point one way,
from the edge down to plain Python (what a port to the Microsoft 365 Agents SDK would keep)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDK = ("botbuilder", "botframework", "msrest")
EDGE = ("bot/edge/", "dialogs/")


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): imports_of(p) for p in sorted((ROOT / "bot").rglob("*.py"))}


def test_bot_framework_types_stay_at_the_edge():
    outside = {path: sorted(n for n in names if n.split(".")[0] in SDK) for path, names in modules().items()}
    assert {path: names for path, names in outside.items() if names and not path.startswith(EDGE)} == {}
    assert any(names for path, names in outside.items() if path.startswith("bot/edge/"))  # the check sees imports


def test_plain_python_never_imports_the_edge():
    upward = {
        path: sorted(n for n in names if n.startswith(("bot.edge", "dialogs")))
        for path, names in modules().items()
        if not path.startswith(EDGE)
    }
    assert {path: names for path, names in upward.items() if names} == {}
