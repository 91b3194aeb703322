"""The playbook with engineer P's situation leaves (R1, L1, AUX) as the contract describes them,
until they land on main: `leaf_for_situation` on top of the real playbook."""

from __future__ import annotations

from dataclasses import dataclass

from bot.playbook import load_playbook

SITUATION_LEAVES = {"recreated_user": "R1", "license_removed": "L1", "auxiliary_archive": "AUX"}


@dataclass(frozen=True)
class StubLeaf:
    id: str


class SituationPlaybook:
    def __init__(self, playbook=None) -> None:
        self._playbook = playbook or load_playbook()

    def __getattr__(self, name):
        return getattr(self._playbook, name)

    def leaf_for_situation(self, situation: str):
        real = getattr(self._playbook, "leaf_for_situation", None)
        if real is not None:
            return real(situation)
        leaf_id = SITUATION_LEAVES.get(situation)
        return StubLeaf(leaf_id) if leaf_id else None
