"""Every leaf walked through POST /api/messages with Teams-shaped activities, replies caught by a
loopback connector: the questions, the plan, each step's card and commands, the ending."""

from __future__ import annotations

import pytest

from bot.cards.walkthrough import OUTCOME_HEADLINES
from tests.cardcheck import library_problems, schema_problems
from tests.harness import actions_of, cards_of, flatten
from tests.playbook_table import EXPECTED
from tests.walker import UPN, walk_leaf

QUOTED_UPN = "'o''brien@contoso.com'"


def code_of(card: dict) -> str:
    return "\n".join(e["codeSnippet"] for e in card["body"] if e.get("type") == "CodeBlock")


@pytest.mark.parametrize("leaf_id", sorted(EXPECTED))
async def test_leaf_walked_end_to_end(leaf_id, admin, playbook):
    onprem, entra, mailbox, outcome, _ = EXPECTED[leaf_id]
    answers = {"onprem": onprem, "entra": entra, "mailbox": mailbox}
    walk = await walk_leaf(admin, playbook, answers)
    leaf = playbook.leaves[leaf_id]

    # Every question before the plan is numbered, its sub-questions counted; once answered (the card
    # updated in place) the total is exact: the last one says "N of N".
    final = {r.activity_id: r for r in walk.records if r.kind in ("send", "update")}  # each card as it ends
    asked = [c["body"][0]["text"] for c in cards_of(list(final.values())) if c["body"][0]["text"].startswith("Question ")]
    prompts = [q.prompt for q in playbook.questions] + [playbook.subquestions[s].prompt for s in leaf.ask_first]
    count = len(prompts)
    assert [a.split(": ", 1)[1] for a in asked] == prompts
    assert [a.split(" of ")[0] for a in asked] == [f"Question {n}" for n in range(1, count + 1)]
    assert asked[-1].startswith(f"Question {count} of {count}: ")

    assert "Your recovery plan" in walk.plan_text and f"For support: route {leaf_id}" in walk.plan_text
    assert OUTCOME_HEADLINES[outcome] in walk.plan_text

    # The first option of each sub-question is the path taken (SSO no, hybrid yes, inactive true, ids match...).
    path = {sub: playbook.subquestions[sub].options[0].id for sub in playbook.subquestions}
    expected = [s for s in leaf.steps if s.applies(path)]
    assert [t.split(": ", 1)[1] for t in walk.step_titles] == [s.title for s in expected]
    decided_late = any(s.ask and any(s.ask in t.when for t in leaf.steps) for s in leaf.steps)
    if decided_late:  # the length depends on an answer still to come: "of up to N" until it is given
        assert walk.step_titles[0].startswith("Step 1 of up to ")
    else:
        assert walk.step_titles[0].startswith(f"Step 1 of {len(expected)}:")
    assert walk.step_titles[-1].startswith(f"Step {len(expected)} of {len(expected)}:")
    for step, card in zip(expected, walk.step_cards, strict=True):
        code = code_of(card)
        assert code or step.manual, f"{leaf_id}/{step.id}: no commands on the card"
        if "{upn}" in step.commands["modern"]:
            assert QUOTED_UPN in code, f"{leaf_id}/{step.id}: the UPN is not filled in"
        assert "Msol" not in code, "modern is the default dialect"

    if outcome == "support":
        assert "needs Microsoft Support" in walk.ending_text
        assert "Escalate to support" in walk.ending_text
    else:
        assert playbook.complete_text in walk.ending_text
        assert "Additional resources" in walk.ending_text
        if leaf.verify:
            assert leaf.verify in walk.ending_text

    for card in cards_of(walk.records):
        assert schema_problems(card) == [], card["body"][0].get("text")


async def test_every_card_passes_the_adaptivecards_library(make_admin, playbook):
    all_cards = []
    for leaf_id in ("A4", "B8", "C2", "A1"):
        onprem, entra, mailbox, *_ = EXPECTED[leaf_id]
        person = make_admin()
        walk = await walk_leaf(person, playbook, {"onprem": onprem, "entra": entra, "mailbox": mailbox})
        all_cards += cards_of(walk.records)
        for command in ("help", "status", "commands original", "resume", "transcript", "escalate"):
            all_cards += cards_of(await person.say(command))
        await person.close()
    problems = library_problems(all_cards)
    failing = [(c["body"][0].get("text"), p) for c, p in zip(all_cards, problems, strict=True) if p]
    assert failing == []
    assert len(all_cards) > 40


async def test_question_cards_have_a_how_do_i_check_with_the_upn_filled_in(admin, playbook):
    await admin.say("start")
    records = await admin.press("Next", upn=UPN)
    question = cards_of(records)[-1]
    show = next(a for a in actions_of(question) if a["type"] == "Action.ShowCard")
    assert show["title"] == "How do I check?"
    # It opens above the answer buttons (in the body), which stay in view below what it shows.
    assert show not in question["actions"] and question["actions"][0]["title"] == "Deleted"
    text = flatten(show["card"])
    # Each command stands alone (no variable from an earlier line): the UPN is quoted for the AD
    # filter inside a PowerShell string, and each block says where it runs.
    assert "Get-ADUser -Filter 'userPrincipalName -eq ''o''''brien@contoso.com'''" in text
    assert "$upn" not in text
    assert "Runs in: a domain-joined computer with the ActiveDirectory module" in text
