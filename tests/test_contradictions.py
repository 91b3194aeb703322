"""No card contradicts another or itself: one test per rule, over every card of a walk of every
leaf (walked once, over real HTTP) and over a case whose deadline is resolved on the way."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

import pytest

from bot.cards.walkthrough import minutes_words
from bot.playbook import load_playbook
from bot.settings import Settings
from tests.conftest import RunningBot
from tests.harness import Admin, Connector, cards_of, flatten
from tests.walker import latest_card, settle_dates, walk_leaf

PLAYBOOK = load_playbook()
TITLE = re.compile(r"^Step \d+ of (?:up to )?\d+: (.+)$")


async def _walk_every_leaf(tmp: str) -> dict[str, list[dict]]:
    connector = Connector()
    await connector.start()
    settings = Settings(state_store="sqlite", sqlite_path=f"{tmp}/state.sqlite3", turns_per_minute=0, diagnostics=False)
    settings = replace(settings, local_service_url=connector.url)
    cards: dict[str, list[dict]] = {}
    async with RunningBot(settings) as bot:
        for leaf in PLAYBOOK.leaves.values():
            if leaf.situation:
                continue  # reached by a diagnostic, walked in tests/diagnostics
            admin = Admin(bot.url, connector)
            try:
                walk = await walk_leaf(admin, PLAYBOOK, dict(leaf.answers))
                cards[leaf.id] = cards_of(walk.records)
            finally:
                await admin.close()
    await connector.stop()
    return cards


@pytest.fixture(scope="module")
def every_card(tmp_path_factory) -> dict[str, list[dict]]:
    return asyncio.run(_walk_every_leaf(str(tmp_path_factory.mktemp("walks"))))


def plans(every_card) -> dict[str, str]:
    return {leaf: flatten(c) for leaf, cs in every_card.items() for c in cs if c["body"][0].get("text") == "Your recovery plan"}


def test_a_plan_states_its_time_once_and_from_its_steps(every_card):
    for leaf_id, text in plans(every_card).items():
        assert not ("Time: " in text and "Waiting: " in text), leaf_id
        waits = re.findall(r"Waiting: up to (.+?) in all", text)
        route_waits = [m for m in re.findall(r"wait up to ([0-9][^·\n]*?)(?: ·|\n|$)", text)]
        assert len(waits) <= 1, leaf_id
        if waits:  # the total is the sum of the waits the route lists, in the same words
            minutes = sum(_minutes(w) for w in route_waits)
            assert waits[0] == minutes_words(minutes), (leaf_id, waits[0], route_waits)


def _minutes(words: str) -> int:
    hours = re.search(r"(\d+) hours?", words)
    rest = re.search(r"(\d+) minutes?", words)
    return (int(hours.group(1)) * 60 if hours else 0) + (int(rest.group(1)) if rest else 0)


def test_a_step_card_says_its_wait_as_the_plan_does(every_card):
    for leaf_id, cards in every_card.items():
        leaf = PLAYBOOK.leaves[leaf_id]
        for card in cards:
            match = TITLE.match(card["body"][0].get("text", ""))
            step = next((s for s in leaf.steps if match and s.title == match.group(1)), None)
            if step is None or not step.wait_minutes or not card.get("actions"):  # a card to act on
                continue
            text = flatten(card)
            assert f"Wait: up to {minutes_words(step.wait_minutes)}" in text, (leaf_id, step.id)
            hours_in_minutes = re.search(r"up to \d{3,} minutes|up to (?:[6-9]\d) minutes", text)
            assert not hours_in_minutes, (leaf_id, step.id)  # an hour or more is said in hours, as the plan does


def test_a_condition_is_printed_once_on_a_plan(every_card):
    for leaf_id, text in plans(every_card).items():
        conditions = re.findall(r"only if the answer to '[^']+' is [^·\n]+", text)
        assert len(conditions) == len(set(conditions)), (leaf_id, conditions)


def test_the_ending_says_what_was_checked_and_never_congratulates(every_card):
    for leaf_id, cards in every_card.items():
        text = "\n".join(flatten(c) for c in cards)
        assert "Congratulations" not in text, leaf_id
        if PLAYBOOK.leaves[leaf_id].outcome != "support":
            assert PLAYBOOK.complete_text in text, leaf_id


def test_a_card_with_buttons_never_points_above_itself(every_card):
    for leaf_id, cards in every_card.items():
        for card in cards:
            if card.get("actions"):
                assert not re.search(r"\b(paste|fill|record)\w* (?:\w+ ){0,4}above\b", flatten(card), re.I), leaf_id


async def test_a_purge_warning_goes_once_the_user_is_restored(person):
    await person.say("start")
    await person.press("Next", upn="jane.doe@contoso.com")
    for label in ("No on-premises AD", "Soft-deleted", "Soft-deleted", "The user, who is coming back"):
        await person.press(label)
    await person.press("Save the date", deadline_date="2026-11-12")  # the Entra user was deleted then
    await settle_dates(person)
    purge = "the deleted Entra user is purged"
    restored = False
    for _ in range(12):
        card, _ = latest_card(person)
        title = card["body"][0].get("text", "")
        if restored:
            assert purge not in flatten(card), title  # resolved: no warning left on the cards
            break
        assert purge in flatten(card) or not title.startswith("Step"), title
        restored = "Restore" in title
        await person.press("Done", **{"value.object_id": "0f1e2d3c-4b5a-4968-8776-655443322110"})
        await settle_dates(person)
    assert restored
    assert purge not in "\n".join(t for t in [flatten(c) for c in cards_of(await person.say("status"))])


def test_a_plan_says_how_its_step_count_and_its_list_agree(every_card):
    for leaf_id, text in plans(every_card).items():
        listed = len(re.findall(r"^\d+\.: ", text, re.M))
        said = re.search(r"Steps: (\d+)", text)
        assert said, leaf_id
        assert listed == int(said.group(1)) or "the list shows the steps of every route" in text, (leaf_id, listed)
