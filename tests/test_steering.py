"""A conversation the admin can steer: 'not yet' on a wait, back and change an answer, cancel,
one live card at the bottom, words understood. Over real HTTP, as Teams sends activities."""

from __future__ import annotations

from bot.cards.walkthrough import minutes_words
from bot.playbook import Playbook, Step
from bot.walkthrough.rules import check_every
from tests.harness import Admin, cards_of, joined
from tests.walker import button_titles, is_step, latest_card, path, title, walk_to


def wait_step_that_can_give_up(playbook: Playbook) -> tuple[object, Step]:
    """A step that waits for replication and asks whether it happened, with an answer that ends in support."""
    for leaf in playbook.leaves.values():
        for step in path(playbook, leaf):
            if step.wait_minutes and step.ask and any(o.end for o in playbook.subquestions[step.ask].options):
                return leaf, step
    raise AssertionError("no wait step that can give up")


def give_up_label(playbook: Playbook, step: Step) -> str:
    return next(o.label for o in playbook.subquestions[step.ask].options if o.end)


async def status_line(admin: Admin) -> str:
    return joined(await admin.say("status"))


# --- 1. 'not yet' on a wait step ------------------------------------------------------------


async def test_no_on_a_wait_step_before_the_wait_is_over_is_not_yet(person, clock, playbook):
    leaf, step = wait_step_that_can_give_up(playbook)
    card = await walk_to(person, playbook, leaf, is_step(step))
    give_up = f"Done: {give_up_label(playbook, step)}"
    titles = button_titles(card)
    every = minutes_words(check_every(step))
    assert give_up not in titles and f"Not yet — remind me in {every}" in titles
    assert "The wait is not over" in str(card)

    records = await person.say(f"done {give_up_label(playbook, step)}")  # typed, 30 seconds in
    assert "The wait is not over yet" in joined(records) and "Say 'not yet'" in joined(records)
    assert "in progress" in await status_line(person)

    records = await person.press(next(t for t in titles if t.startswith("Not yet")))
    assert "I will remind you" in joined(records) and "in progress" in await status_line(person)
    records = await person.say("not yet")
    assert f"Not yet: look again in {every}" in joined(records)

    clock.advance(minutes=step.wait_minutes + 1)  # the wait is over: now a 'no' is an answer
    await person.say("resume")
    card, _ = latest_card(person)
    assert give_up in button_titles(card)
    records = await person.press(give_up)
    assert "needs Microsoft Support" in joined(records) or "needs support" in await status_line(person)


async def test_a_no_answer_is_never_shown_in_the_success_colour(person, clock, playbook):
    leaf, step = wait_step_that_can_give_up(playbook)
    await walk_to(person, playbook, leaf, is_step(step))
    clock.advance(minutes=step.wait_minutes + 1)
    await person.say("resume")
    records = await person.press(f"Done: {give_up_label(playbook, step)}")
    summaries = [c for c in cards_of(records) if title(c).endswith(step.title) and not c.get("actions")]
    assert summaries
    colours = {e.get("color") for c in summaries for e in c["body"] if give_up_label(playbook, step) in str(e.get("text", ""))}
    assert colours and "Good" not in colours


async def test_a_case_that_ended_needing_support_can_be_reopened(person, clock, playbook):
    leaf, step = wait_step_that_can_give_up(playbook)
    await walk_to(person, playbook, leaf, is_step(step))
    clock.advance(minutes=step.wait_minutes + 1)
    await person.say("resume")
    await person.press(f"Done: {give_up_label(playbook, step)}")
    records = await person.say("resume")
    assert "Reopen" in str(cards_of(records))
    records = await person.press(next(t for c in cards_of(records) for t in button_titles(c) if t.startswith("Reopen")))
    assert "Reopened case" in joined(records)
    card, _ = latest_card(person)
    assert is_step(step)(card)  # back at the step that ended it, to answer again
