"""The layout is the design: Bot Framework types stay at the edge, and imports point one way,
from the edge down to plain Python (what a port to the Microsoft 365 Agents SDK would keep).

    app.py         the composition root: may import anything
    bot/teams/     Teams activities and delivery      -> dialogs, turn, hosting, plain
    dialogs/       the Bot Framework dialogs          -> turn, hosting, plain
    bot/turn/      one turn                           -> hosting, plain
    bot/hosting/   HTTP in and out, the SDK adapter   -> plain
    everything else in bot/ is plain Python           -> plain only, never a Bot Framework type
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDK = ("botbuilder", "botframework", "msrest")
# Highest layer first; a module imports its own layer or one below it.
LAYERS = (("bot/teams/", "bot.teams"), ("dialogs/", "dialogs"), ("bot/turn/", "bot.turn"), ("bot/hosting/", "bot.hosting"))
EDGE = tuple(path for path, _ in LAYERS)
PLAIN_PACKAGES = (
    "bot/walkthrough/", "bot/reminders/", "bot/playbook/", "bot/cards/", "bot/support/", "bot/storage/",
    "bot/integrations/", "bot/diagnostics/",
)  # fmt: skip


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules() -> dict[str, set[str]]:
    paths = [*sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "dialogs").rglob("*.py"))]
    return {str(p.relative_to(ROOT)): imports_of(p) for p in paths}


def layer_of(path_or_module: str) -> int:
    """0 for the top edge layer ... len(LAYERS) for plain Python."""
    for rank, (path, module) in enumerate(LAYERS):
        if path_or_module.startswith(path) or path_or_module == module or path_or_module.startswith(module + "."):
            return rank
    return len(LAYERS)


def test_bot_framework_types_stay_at_the_edge():
    outside = {path: sorted(n for n in names if n.split(".")[0] in SDK) for path, names in modules().items()}
    assert {path: names for path, names in outside.items() if names and not path.startswith(EDGE)} == {}
    assert any(names for path, names in outside.items() if path.startswith("bot/hosting/"))  # the check sees imports


def test_imports_point_down_the_layers():
    upward = {
        path: sorted(n for n in names if (n.startswith(("bot.", "dialogs")) and layer_of(n) < layer_of(path)))
        for path, names in modules().items()
    }
    assert {path: names for path, names in upward.items() if names} == {}
    assert layer_of("bot.turn.replies") < layer_of("bot/hosting/adapter.py") < layer_of("bot/walkthrough/case.py")


def test_every_package_is_placed_in_the_layout():
    packages = {str(p.parent.relative_to(ROOT)) + "/" for p in (ROOT / "bot").rglob("__init__.py")} - {"bot/"}
    assert packages <= set(EDGE) | set(PLAIN_PACKAGES), packages - set(EDGE) - set(PLAIN_PACKAGES)
