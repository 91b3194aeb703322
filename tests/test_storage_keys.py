"""One registry of key prefixes (bot.storage.keys) with how long each is kept: housekeeping purges
every registered prefix that is purged by age, and a key prefix used in the code or written by a
walk but not registered fails here (it would be kept for ever, unseen)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.storage import MemoryDocumentStore, SqliteDocumentStore
from bot.storage import documents as documents_module
from bot.storage.housekeeping import purge_once
from bot.storage.keys import KEPT, REGISTRY, owner_scope, registered, segment
from tests.harness import joined
from tests.walker import UPN

ROOT = Path(__file__).resolve().parents[1]
LOOKS_LIKE_A_KEY = re.compile(r"^[a-z][a-z0-9_-]*/")
NOT_KEYS = ("application/", "data/")  # MIME types, the SQLite file's folder


def literals_that_look_like_keys() -> dict[str, str]:
    found = {}
    paths = [*sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "dialogs").rglob("*.py")), ROOT / "app.py"]
    for path in paths:
        if path.name == "keys.py" and path.parent.name == "storage":
            continue  # where they are declared
        tree = ast.parse(path.read_text(encoding="utf-8"))
        inside = set()  # the tail of a key made from a registered prefix: f"{PREFIX}due/", PREFIX + "x/"
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                inside.update(id(part) for part in node.values[1:])
            elif isinstance(node, ast.BinOp):
                inside.add(id(node.right))
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Constant) and id(node) not in inside else None
            if isinstance(value, str) and LOOKS_LIKE_A_KEY.match(value) and not value.startswith(NOT_KEYS):
                found[f"{path.relative_to(ROOT)}:{node.lineno}"] = value
    return found


def test_every_key_prefix_in_the_code_is_registered():
    literals = literals_that_look_like_keys()
    assert len(literals) >= 4  # the scan sees them (config/, cardids/, state/, activities/ are written as literals)
    assert {where: key for where, key in literals.items() if registered(key) is None} == {}


def test_the_registry_has_one_entry_per_prefix_and_none_inside_another():
    prefixes = [space.prefix for space in REGISTRY]
    assert len(prefixes) == len(set(prefixes))
    assert all(p.endswith("/") for p in prefixes)
    assert [(a, b) for a in prefixes for b in prefixes if a != b and b.startswith(a)] == []


async def test_housekeeping_purges_every_registered_prefix_but_the_kept_ones(monkeypatch):
    documents = MemoryDocumentStore()
    long_ago = 1_000_000.0
    monkeypatch.setattr(documents_module.time, "time", lambda: long_ago)  # written long ago
    for space in REGISTRY:
        await documents.write(f"{space.prefix}x/old", {"x": 1}, None)
    monkeypatch.undo()
    counts = await purge_once(documents, retention_days=30)
    purged_by_age = {space.prefix for space in REGISTRY if space.keep != KEPT}
    assert set(counts) == purged_by_age and all(counts[p] == 1 for p in purged_by_age)
    left = set(await documents.read_prefix(""))
    assert left == {f"{space.prefix}x/old" for space in REGISTRY if space.keep == KEPT}


async def test_nothing_is_purged_before_its_time():
    documents = MemoryDocumentStore()
    for space in REGISTRY:
        await documents.write(f"{space.prefix}x/new", {"x": 1}, None)
    assert not any((await purge_once(documents, retention_days=30)).values())


async def test_every_document_a_walk_writes_is_under_a_registered_prefix(admin, settings):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.say("escalate")
    assert "ready for support" in joined(await admin.press("Send to support", description="help"))
    await admin.say("start new")
    store = SqliteDocumentStore(settings.sqlite_path)
    keys = set(await store.read_prefix(""))
    await store.close()
    prefixes = {registered(key).prefix for key in keys if registered(key)}
    assert {"cases/", "case-numbers/", "transcripts/", "tickets/", "ticket-quota/", "state/"} <= prefixes
    assert sorted(key for key in keys if registered(key) is None) == []


def test_owner_segments_cannot_move_a_key_or_collide():
    assert segment("a/../b") == "a%2F%2E%2E%2Fb" and "." not in segment("x.y") and segment("") == "~"
    assert segment("~") != segment("") and owner_scope("t", "u/v") != owner_scope("t/u", "v")
