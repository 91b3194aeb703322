"""The pure rules the steering and wait cards lean on, without the bot: how long a wait has left,
how often to look, which answer gives up, which recorded values support may see, and the plan's
titles and the questions answered before it. Steps are found by their properties (the playbook
changes) or built here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.playbook import Step, load_playbook
from bot.walkthrough.case import RecoveryCase
from bot.walkthrough.rules import (
    DEFAULT_CHECK_EVERY,
    MAX_VALUE,
    answered_before_plan,
    check_every,
    gives_up,
    may_apply,
    plan_titles,
    ticket_values,
    wait_left,
)

playbook = load_playbook()
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
GUID = "1b3f4c5d-0000-4e2f-9a8b-123456789abc"


def step(**fields) -> Step:
    return Step(id=fields.pop("id", "s"), title="t", why="w", commands={}, **fields)


def a_case(**fields) -> RecoveryCase:
    return RecoveryCase("MR-ABC234", "admin-1", upn="jane@contoso.com", **fields)


@pytest.mark.parametrize(
    "own, wait, every",
    [(0, 0, DEFAULT_CHECK_EVERY), (10, 0, 10), (10, 180, 10), (45, 20, 20), (0, 20, 20), (0, 180, DEFAULT_CHECK_EVERY)],
)
def test_check_every_is_the_steps_own_interval_never_longer_than_its_wait(own, wait, every):
    assert check_every(step(check_every_minutes=own, wait_minutes=wait)) == every


def test_wait_left_counts_from_when_the_card_was_first_shown():
    waiting = step(id="w", wait_minutes=30, ask="q")
    case = a_case(step_shown={"w": (NOW - timedelta(minutes=10)).isoformat()})
    assert wait_left(case, waiting, NOW) == timedelta(minutes=20)
    assert wait_left(case, waiting, NOW, scale=2.0) == timedelta(minutes=50)  # the wait scaled, not the time gone
    assert wait_left(case, waiting, NOW + timedelta(minutes=19, seconds=59)) == timedelta(seconds=1)
    assert wait_left(case, waiting, NOW + timedelta(minutes=20)) is None  # over: a 'no' is now a failure
    assert wait_left(case, waiting, NOW + timedelta(hours=1)) is None


@pytest.mark.parametrize(
    "fields, shown",
    [
        ({"wait_minutes": 0, "ask": "q"}, True),  # no wait
        ({"wait_minutes": 30, "ask": None}, True),  # waits, asks nothing
        ({"wait_minutes": 30, "ask": "q"}, False),  # its card not shown yet
    ],
)
def test_wait_left_is_none_without_a_wait_a_question_or_a_shown_card(fields, shown):
    waiting = step(id="w", **fields)
    case = a_case(step_shown={"w": NOW.isoformat()} if shown else {})
    assert wait_left(case, waiting, NOW) is None


def _asking_step(ending: bool) -> tuple[Step, str, str]:
    """A step whose question has an answer that ends in support (ending) or none that does."""
    for leaf in playbook.leaves.values():
        for candidate in leaf.steps:
            if not candidate.ask:
                continue
            options = playbook.subquestions[candidate.ask].options
            ends = [o.id for o in options if o.end]
            goes_on = [o.id for o in options if not o.end]
            if ending and ends and goes_on:
                return candidate, ends[0], goes_on[0]
            if not ending and not ends and goes_on:
                return candidate, goes_on[0], goes_on[-1]
    raise AssertionError("no such step in the playbook")


def test_gives_up_only_on_the_answer_that_ends_in_support():
    asking, ends, goes_on = _asking_step(ending=True)
    assert gives_up(playbook, asking, ends) is True
    assert gives_up(playbook, asking, goes_on) is False
    assert gives_up(playbook, asking, None) is False
    assert gives_up(playbook, asking, "") is False
    assert gives_up(playbook, asking, "no-such-option") is False
    assert gives_up(playbook, step(), ends) is False  # a step that asks nothing never gives up


def test_a_question_without_an_ending_answer_never_gives_up():
    asking, first, last = _asking_step(ending=False)
    assert gives_up(playbook, asking, first) is False and gives_up(playbook, asking, last) is False


def test_ticket_values_keeps_known_clean_well_formed_values_only():
    case = a_case()
    case.values.update(
        {
            "upn": "jane@contoso.com",
            "exchange_guid": "{" + GUID.upper() + "}",  # normalised as validate() does
            "unknown_placeholder": "kept nowhere",
            "object_id": "not a guid",
            "display_name": "x" * (MAX_VALUE + 1),
            "name": "password: Hunter2-secret!",  # the redaction screen would change it
        }
    )
    case.values["alias"] = 42  # planted in a stored case
    case.values["primary_smtp"] = "jane@contoso.com"  # after the refused ones: still kept
    assert ticket_values(case, playbook) == {"upn": "jane@contoso.com", "exchange_guid": GUID, "primary_smtp": "jane@contoso.com"}


def test_ticket_values_keeps_a_value_exactly_max_value_long():
    case = a_case()
    case.values["display_name"] = "x" * MAX_VALUE
    assert ticket_values(case, playbook) == {"display_name": "x" * MAX_VALUE}


def _leaf_with_ask_first():
    """A leaf the three answers reach that asks its own questions first, and those three answers."""
    for key, leaf_id in playbook.by_answers.items():
        if playbook.leaves[leaf_id].ask_first:
            return playbook.leaves[leaf_id], dict(zip([q.id for q in playbook.questions], key, strict=True))
    raise AssertionError("no such leaf in the playbook")


def test_plan_titles_are_the_steps_that_may_apply_and_none_before_the_scenario():
    assert plan_titles(a_case(), playbook) == []
    leaf, scoping = _leaf_with_ask_first()
    case = a_case(answers=scoping, leaf_id=leaf.id)
    titles = plan_titles(case, playbook)
    assert titles == [s.title for s in leaf.steps if may_apply(s, case)]
    assert titles and set(titles) <= {s.title for s in leaf.steps}


def test_answered_before_plan_in_the_order_asked():
    leaf, scoping = _leaf_with_ask_first()
    order = [q.id for q in playbook.questions] + list(leaf.ask_first)
    answers = {question: "x" for question in reversed(leaf.ask_first)}  # stored in another order
    answers.update(reversed(list(scoping.items())))
    answers["not_a_question"] = "x"
    case = a_case(answers=answers, leaf_id=leaf.id)
    assert answered_before_plan(case, playbook) == order
    del case.answers[leaf.ask_first[0]]
    assert answered_before_plan(case, playbook) == [q for q in order if q != leaf.ask_first[0]]
    # before the scenario is known only the playbook's own questions count
    first = playbook.questions[0].id
    assert answered_before_plan(a_case(answers={leaf.ask_first[-1]: "x", first: "x"}), playbook) == [first]
