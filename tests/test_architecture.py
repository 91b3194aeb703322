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


# --- the tests' own layout ------------------------------------------------------------------
# Fixtures live in conftest.py files and shared helpers in helper modules (tests/harness.py,
# tests/walker.py, ...): no file under tests/ imports a test module (tests/**/test_*.py).


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved; `from a import b` also counts a.b,
    which is a module when b is one."""
    package = list(path.relative_to(ROOT).parent.parts)
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and parts[-1].startswith("test_") and (ROOT / Path(*parts)).with_suffix(".py").is_file()


def test_no_file_under_tests_imports_a_test_module():
    imports = {str(p.relative_to(ROOT)): imported_modules(p) for p in sorted((ROOT / "tests").rglob("*.py"))}
    from_tests = {path: sorted(n for n in names if is_test_module(n)) for path, names in imports.items()}
    assert {path: names for path, names in from_tests.items() if names} == {}
    assert is_test_module("tests.test_architecture") and is_test_module("tests.security.test_ticket_content")
    assert not is_test_module("tests.harness") and not is_test_module("tests.harness.test_helper")
    assert "tests.harness" in imports["tests/conftest.py"]  # the check sees imports
