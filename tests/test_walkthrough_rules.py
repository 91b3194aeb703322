"""How a case moves through a leaf when a step fails: pure functions, on a playbook built for it."""

from __future__ import annotations

import copy

from bot.playbook.loader import build_playbook
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.rules import complete_step, current_step, fail_step
from tests.playbook_source import RAW, leaf

A3 = {"onprem": "deleted", "entra": "present", "mailbox": "soft_deleted", "mail_for": "returning"}


def playbook_with_a_failure_path():
    """A3 with a failure path from its second step to its fifth (the shipped playbook has none)."""
    shipped = build_playbook(copy.deepcopy(RAW))
    steps = shipped.leaves["A3"].steps
    data = copy.deepcopy(RAW)
    leaf(data, "A3")["steps"][1]["on_failure"] = steps[4].id
    leaf(data, "A3")["steps"][1]["failure_note"] = "Skip to the fifth step."
    return build_playbook(data), [s.id for s in steps]


def test_a_failure_path_jumps_and_marks_the_steps_between_as_skipped():
    playbook, ids = playbook_with_a_failure_path()
    a3 = playbook.leaves["A3"]
    case = RecoveryCase("MR-ABCDEF", "admin", upn="jane@contoso.com", answers=dict(A3), leaf_id="A3")
    complete_step(case, playbook, a3, a3.steps[0])
    progress = fail_step(case, a3, a3.steps[1])
    assert progress.kind == "next" and progress.note == "Skip to the fifth step."
    assert case.steps[ids[1]].status == "failed" and case.steps[ids[1]].failures == 1
    assert [case.steps[i].status for i in ids[2:4]] == ["skipped", "skipped"]
    assert current_step(case, a3).id == ids[4]
