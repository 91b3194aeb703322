"""Every corpus case walked black-box over HTTP from 'start' with its pastes: the right plan,
every field the paste gives pre-filled on its step, the first command within the turn budget;
every bad paste answered with its message and the case unchanged."""

from __future__ import annotations

import pytest

from bot.diagnostics.assess import assess
from tests.diagnostics import corpus
from tests.diagnostics.corpus import read_all
from tests.diagnostics.walk import walk_case
from tests.harness import cards_of, flatten, texts_of


@pytest.mark.parametrize("name", [*corpus.LEAVES, *corpus.SITUATIONS])
async def test_case_walked_from_start_with_pastes(name, admin, playbook):
    case = corpus.CORPUS[name]
    walk = await walk_case(admin, playbook, case)
    assert f"For support: route {case.leaf}" in walk.plan_text
    budget = 5 if case.synced else 4
    extra = len(playbook.leaves[case.leaf].ask_first) if case.leaf in playbook.leaves else 0
    assert walk.turns_to_first_command <= budget + extra + (len(case.pastes) - 1)
    # Every value the paste gave, on the step that asks for it, pre-filled and saying where from.
    provided = assess(read_all(case), playbook, now=corpus.NOW).values
    assert set(case.values) <= set(provided)
    for name_ in set(provided) & walk.asked - {"upn"}:
        assert walk.prefilled.get(name_) == provided[name_], name_
        assert "from your diagnostic at 14:02 UTC" in walk.labels[name_]
    assert "Questions" not in "".join(t[:9] for t in texts_of(walk.records))  # no scoping question was asked
    assert walk.ending


async def test_all_pastes_in_one_message_reach_the_first_command_in_four_turns(admin, playbook):
    walk = await walk_case(admin, playbook, corpus.CORPUS["C6"], one_message=True, to_end=False)
    assert walk.turns_to_first_command == 4


async def test_the_questions_stay_the_way_without_a_paste(admin, playbook):
    await admin.say("start")
    records = await admin.press("Next", upn=corpus.UPN)
    assert "Let me read the state for you" in flatten(cards_of(records)[-1])
    records = await admin.press("I'd rather answer the questions")
    assert cards_of(records)[-1]["body"][0]["text"].startswith("Question 1 of")


async def test_thats_not_right_falls_back_to_the_questions(admin, playbook):
    await admin.say("start")
    await admin.press("Next", upn=corpus.UPN)
    await admin.say(corpus.CORPUS["C6"].pastes["exo"])
    records = await admin.say(corpus.CORPUS["C6"].pastes["graph"])
    assert "What I read" in flatten(cards_of(records)[-1])
    records = await admin.press("That's not right")
    assert cards_of(records)[-1]["body"][0]["text"].startswith("Question 1 of")


@pytest.mark.parametrize("name", sorted(corpus.BAD))
async def test_bad_pastes_get_their_message_and_change_nothing(name, admin, playbook):
    paste, _code = corpus.BAD[name]
    await admin.say("start")
    await admin.press("Next", upn=corpus.UPN)
    records = await admin.say(paste)
    said = " ".join(texts_of(records))
    assert said and "What I read" not in flatten(cards_of(records)), said
    status = flatten(cards_of(await admin.say("status"))[-1])
    assert "not answered" in status  # the case holds no answer from it
    # Nothing lost: a good paste afterwards is read.
    records = await admin.say(corpus.CORPUS["C6"].pastes["exo"])
    assert "What I read" in flatten(cards_of(records)[-1])


async def test_a_pasted_error_is_recognised(admin, playbook):
    await admin.say("start")
    await admin.press("Next", upn=corpus.UPN)
    records = await admin.say("Connect-MgGraph : Method not found: 'Void Microsoft.Identity.Client.AuthenticationResult..ctor'")
    assert "I recognise this error" in flatten(cards_of(records))
