"""The shipped playbook's source as it is read from its TOML file, before it is built (RAW), and
ways into a copy of it (leaf, step) for tests that change it."""

from __future__ import annotations

import tomllib

from bot.playbook import DEFAULT_PATH

RAW = tomllib.loads(DEFAULT_PATH.read_text(encoding="utf-8"))


def leaf(data, leaf_id):
    return next(x for x in data["leaves"] if x["id"] == leaf_id)


def step(data, leaf_id, step_id):
    return next(s for s in leaf(data, leaf_id)["steps"] if step_id in (s.get("id"), s.get("use")))
