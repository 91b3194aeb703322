"""Issue 13, the guards and one live card per case, as the admin sees them over real HTTP:
a destructive step behind its recorded values, Done behind the collected ones, 'It failed' as a
choice (try again, the documented alternative, escalate with the error), every card the bot
moves past updated in place without buttons, and `start`/`resume` saying which case is which.

Leaves and steps are found by their properties, not by today's ids, so the playbook can change."""

from __future__ import annotations

import re

import pytest

from bot.playbook import DEFAULT_PATH, Leaf, Playbook, Step, load_playbook
from bot.storage import SqliteDocumentStore
from tests.conftest import RunningBot, with_settings
from tests.harness import Admin, Recorded, cards_of, find_action, flatten, joined
from tests.playbook_table import EXPECTED
from tests.walker import (
    UPN,
    button_titles,
    collecting_step_before_destructive,
    destructive_with_nothing_collected,
    is_confirm,
    is_step,
    latest_card,
    moved_below,
    path,
    step_failing_into_support,
    step_without_alternative,
    straight,
    title,
    value_for,
    walk_leaf,
    walk_to,
)

BAD_GUID = "not-a-guid"


def playbook_with_a_bare_destructive_step(tmp_path) -> str:
    """The shipped playbook with B2's owner lookup no longer collecting the object id: its
    destructive soft delete then gets that value only from its own card (the shipped playbook
    collects every value before the step that uses it)."""
    source = DEFAULT_PATH.read_text(encoding="utf-8")
    start = source.index('id = "B2"')
    chunk = source[start : source.index("[[leaves]]", start)]
    owner = 'collect = ["exchange_guid", "legacy_dn", "object_id"]'
    changed = chunk.replace(owner, 'collect = ["exchange_guid", "legacy_dn"]', 1)
    assert changed != chunk
    path = tmp_path / "playbook.toml"
    path.write_text(source.replace(chunk, changed), encoding="utf-8")
    return str(path)


def code_of(content: dict) -> str:
    return "\n".join(e["codeSnippet"] for e in content["body"] if e.get("type") == "CodeBlock")


def last_state_of_each_card(records: list[Recorded]) -> dict[str, dict]:
    state: dict[str, dict] = {}
    for record in records:
        for content in cards_of([record]):
            state[record.activity_id] = content
    return state


# --- 1. record before destroy ---------------------------------------------------------------------


async def test_a_destructive_step_is_unreachable_with_empty_or_invalid_values(settings, connector, tmp_path):
    path = playbook_with_a_bare_destructive_step(tmp_path)
    async with RunningBot(with_settings(settings, playbook_path=path)) as bot:
        admin = Admin(bot.url, connector)
        try:
            await destructive_step_is_gated(admin, load_playbook(path))
        finally:
            await admin.close()


async def destructive_step_is_gated(admin, playbook):
    leaf, destructive = destructive_with_nothing_collected(playbook)
    confirm = await walk_to(admin, playbook, leaf, is_confirm(destructive))
    _, confirm_id = latest_card(admin)
    label = playbook.placeholders[destructive.record[0]].label
    assert f"value.{destructive.record[0]}" in [e.get("id") for e in confirm["body"]]

    records = await admin.press("I have recorded them")  # the field left empty
    confirm_id = moved_below(records, confirm_id)
    assert confirm_id and f"Still missing: {label}" in joined(records) and "I have recorded them" in joined(records)

    records = await admin.say("recorded")  # typed: no way round it either
    assert "Still missing" in joined(records) and not any(is_step(destructive)(c) for c in cards_of(records))
    _, confirm_id = latest_card(admin)

    records = await admin.press("I have recorded them", **{f"value.{destructive.record[0]}": BAD_GUID})
    confirm_id = moved_below(records, confirm_id)
    assert confirm_id and "Not saved:" in joined(records)

    forged = {"action": "step", "case": find_action(admin.history(), "I have recorded them")[0]["case"]}
    records = await admin.click({**forged, "step": destructive.id, "result": "done"}, confirm_id)
    assert "not the current step" in joined(records)
    assert "you are here" in joined(await admin.say("status")).split(destructive.title, 1)[1].split("\n", 1)[0]

    values = {f"value.{n}": value_for(playbook, n) for n in destructive.record}
    records = await admin.press("I have recorded them", **values)
    step_card = cards_of([r for r in records if r.kind == "send"])[-1]
    assert is_step(destructive)(step_card)
    assert "from step" not in code_of(step_card)
    for name in destructive.record:
        if f"{{{name}}}" in destructive.commands["modern"]:
            assert f"'{value_for(playbook, name)}'" in code_of(step_card)


async def test_done_on_a_collecting_step_needs_every_value_valid(admin, playbook):
    leaf, collecting, destructive = collecting_step_before_destructive(playbook)
    await walk_to(admin, playbook, leaf, is_step(collecting))
    _, card_id = latest_card(admin)
    names = [playbook.placeholders[n].label for n in collecting.collect]

    records = await admin.press("Done")
    card_id = moved_below(records, card_id)
    assert card_id and f"Not done yet: fill in the {' and the '.join(names)}" in joined(records)
    records = await admin.say("done")
    assert "Not done yet" in joined(records) and destructive.title not in joined(records)
    _, card_id = latest_card(admin)

    first, *rest = collecting.collect
    records = await admin.press("Done", **{f"value.{first}": BAD_GUID})
    card_id = moved_below(records, card_id)
    assert card_id and "Not saved:" in joined(records)

    if rest:  # one valid, the others missing: still not done, and the card says which
        records = await admin.press("Done", **{f"value.{first}": value_for(playbook, first)})
        missing = [playbook.placeholders[n].label for n in rest]
        assert f"Not done yet: fill in the {' and the '.join(missing)}" in joined(records)
        _, card_id = latest_card(admin)

    records = await admin.press("Done", **{f"value.{n}": value_for(playbook, n) for n in collecting.collect})
    summary = next(r for r in records if r.kind == "update" and r.activity_id == card_id)
    assert "Done at" in joined([summary]) and "actions" not in cards_of([summary])[0]
    assert all(value_for(playbook, n) in joined([summary]) for n in collecting.collect)


# --- 4. It failed is a choice, not a dead end -----------------------------------------------------


async def test_it_failed_offers_a_retry_and_an_escalation_with_the_redacted_error(admin, playbook):
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    _, card_id = latest_card(admin)

    records = await admin.press("It failed")
    card_id = moved_below(records, card_id)  # the choice comes at the bottom; the step card above loses its buttons
    failure = cards_of(records)[-1]
    assert card_id and button_titles(failure) == ["Try the step again", "Escalate with this error"]
    assert "no other way" in flatten(failure) and "walkthrough says" not in flatten(failure).lower()
    assert "to do" in joined(await admin.say("status"))  # nothing is marked failed yet
    _, card_id = latest_card(admin)

    records = await admin.say("Connect-ExchangeOnline: access denied. Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345")
    card_id = moved_below(records, card_id)
    pasted = next(r for r in records if r.activity_id == card_id)
    assert "access denied" in joined([pasted]) and "abcdefghijklmnop" not in joined([pasted])

    records = await admin.say("done")  # not an error text, and not a way past the choice
    assert "waiting for your choice" in joined(records) and "failed" not in joined(await admin.say("status")).lower()
    _, card_id = latest_card(admin)

    records = await admin.press("Try the step again")
    card_id = moved_below(records, card_id)
    assert card_id and "Done" in button_titles(cards_of(records)[-1])
    assert "failed" not in joined(await admin.say("status")).split(step.title, 1)[1].split("\n", 1)[0]

    await admin.press("It failed")
    _, card_id = latest_card(admin)
    records = await admin.press("Escalate with this error", error="Connect-ExchangeOnline: access denied")
    assert "Failed at" in joined([r for r in records if r.activity_id == card_id])
    form = next(c for c in cards_of(records) if title(c).startswith("Escalate case"))
    description = next(e for e in form["body"] if e.get("id") == "description")
    assert description["value"] == f"Step '{step.title}' failed. Error: Connect-ExchangeOnline: access denied"
    records = await admin.press("Send to support", description=description["value"])
    assert "Connect-ExchangeOnline: access denied" in joined(records)  # what is forwarded to support
    assert "failed" in joined(await admin.say("status")).split(step.title, 1)[1].split("\n", 1)[0]


async def test_typed_escalate_after_it_failed_carries_the_error_and_not_now_brings_the_step_back(admin, playbook):
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    await admin.press("It failed")
    await admin.say("The term 'Connect-ExchangeOnline' is not recognized")
    records = await admin.say("escalate")
    form = next(c for c in cards_of(records) if title(c).startswith("Escalate case"))
    description = next(e for e in form["body"] if e.get("id") == "description")
    assert "The term 'Connect-ExchangeOnline' is not recognized" in description["value"]

    records = await admin.press("Not now")
    assert "Not escalated" in joined(records)
    content, _ = latest_card(admin)
    assert title(content) == title(cards_of(records)[-1]) and "Try the step again" in button_titles(content)

    await admin.press("Escalate with this error")
    records = await admin.press("Not now")
    content, _ = latest_card(admin)
    assert is_step(step)(content) and "Done" in button_titles(content)  # waiting, with its buttons again


async def test_a_failure_that_needs_support_is_escalated_with_the_error_and_never_quotes_the_source(admin, playbook):
    leaf, step = step_failing_into_support(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    records = await admin.press("It failed")
    failure = cards_of(records)[-1]
    assert button_titles(failure) == ["Try the step again", "Escalate with this error"]
    assert "needs Microsoft Support" in flatten(failure)
    assert "walkthrough says" not in flatten(failure).lower() and step.failure_note not in flatten(failure)

    records = await admin.press("Escalate with this error", error="Remove-Mailbox: object not found")
    assert "Escalate case" in joined(records) and "Remove-Mailbox: object not found" in joined(records)
    assert [title(c) for c in cards_of(records) if c.get("actions")][-1].startswith("Escalate case")  # the form is last
    assert "needs support" in joined(await admin.say("status"))


def playbook_with_an_alternative(tmp_path) -> tuple[str, Leaf, Step, Step]:
    """The shipped playbook with a documented alternative added: a plain, inline step of a straight
    leaf goes on at the leaf's last step when it fails."""
    source = DEFAULT_PATH.read_text(encoding="utf-8")
    shipped = load_playbook()
    for leaf in shipped.leaves.values():
        if not straight(leaf) or len(leaf.steps) < 3:
            continue
        start = source.index(f'id = "{leaf.id}"\n')
        end = source.find("[[leaves]]", start)
        chunk = source[start : end if end != -1 else len(source)]
        for step in leaf.steps[1:-1]:
            line = f'use = "{step.id}"\n'
            if not step.on_failure and not step.destructive and chunk.count(line) == 1:
                changed_chunk = chunk.replace(line, f'{line}on_failure = "{leaf.steps[-1].id}"\n')
                path = tmp_path / "playbook.toml"
                path.write_text(source.replace(chunk, changed_chunk), encoding="utf-8")
                changed = load_playbook(path)
                return str(path), changed.leaves[leaf.id], changed.leaves[leaf.id].step(step.id), leaf.steps[-1]
    raise AssertionError("no step to give an alternative")


async def test_it_failed_offers_the_documented_alternative_when_the_playbook_has_one(settings, connector, tmp_path):
    path, leaf, step, alternative = playbook_with_an_alternative(tmp_path)
    changed = load_playbook(path)
    async with RunningBot(with_settings(settings, playbook_path=path)) as bot:
        admin = Admin(bot.url, connector)
        try:
            await walk_to(admin, changed, leaf, is_step(step))
            records = await admin.press("It failed")
            _, card_id = latest_card(admin)
            go_on = next(t for t in button_titles(cards_of(records)[-1]) if t.startswith("Go on at step"))
            assert f"Another way: go on at step {go_on.rsplit(' ', 1)[1]}, {alternative.title}" in joined(records)
            records = await admin.press(go_on, error="It said no")
            summary = next(r for r in records if r.kind == "update" and r.activity_id == card_id)
            assert "Failed at" in joined([summary]) and alternative.title in joined([summary])
            assert is_step(alternative)(cards_of([r for r in records if r.kind == "send"])[-1])
        finally:
            await admin.close()


# --- 5. one live card per case --------------------------------------------------------------------


@pytest.mark.parametrize("leaf_id", sorted(EXPECTED))
async def test_by_the_end_of_a_walk_no_step_card_has_buttons(leaf_id, admin, playbook):
    onprem, entra, mailbox, *_ = EXPECTED[leaf_id]
    walk = await walk_leaf(admin, playbook, {"onprem": onprem, "entra": entra, "mailbox": mailbox})
    sent_steps = {
        r.activity_id
        for r in walk.records
        if r.kind == "send" and any(title(c).startswith(("Step ", "Before step")) for c in cards_of([r]))
    }
    final = last_state_of_each_card(admin.history())
    assert sent_steps and [i for i in sent_steps if final[i].get("actions")] == []
    for card_id in sent_steps:  # each became a summary: done when, or the values recorded
        assert re.search(r"(Done|Failed) at \d\d:\d\d UTC|Recorded\.", flatten(final[card_id])), flatten(final[card_id])
    for content in walk.step_cards:
        assert "from step" not in code_of(content) or not any(
            s.destructive and title(content).endswith(s.title) for s in playbook.leaves[leaf_id].steps
        )


async def test_resume_and_the_dialect_switch_bring_the_live_card_to_the_bottom(admin, playbook):
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    _, card_id = latest_card(admin)
    records = await admin.say("resume")
    card_id = moved_below(records, card_id)
    assert card_id and "Done" in button_titles(cards_of(records)[-1])
    records = await admin.say("commands original")
    assert moved_below(records, card_id) and "Retired commands" in joined(records)
    records = await admin.say("purple")  # a typed answer that is no answer: a line, not a copy of the card
    assert not cards_of(records)


async def test_only_the_current_cases_step_has_buttons_and_resume_says_where_it_went(admin, playbook):
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    first_case = re.search(r"MR-[A-Z0-9]{8}", joined(await admin.say("status"))).group(0)
    _, first_card = latest_card(admin)

    records = await admin.say("start")
    assert f"Case {first_case} for {UPN} is open" in joined(records)
    records = await admin.press("Start a new case")
    paused = next(r for r in records if r.activity_id == first_card)
    assert "actions" not in cards_of([paused])[0] and f"resume {first_case}" in joined([paused])
    await admin.press("Next", upn="second.user@contoso.com")
    _, second_card = latest_card(admin)

    records = await admin.say(f"resume {first_case}")
    assert f"Switched to case {first_case} for {UPN}." in joined(records)
    assert "actions" not in cards_of([r for r in records if r.activity_id == second_card])[0]
    final = last_state_of_each_card(admin.history())
    live = [i for i, c in final.items() if c.get("actions") and title(c).startswith(("Step", "Before step", "1/3"))]
    assert len(live) == 1 and is_step(step)(final[live[0]])


# --- 6. start and resume while a case is open ------------------------------------------------------


async def test_start_from_the_welcome_card_while_a_case_is_open_asks_first(admin, playbook):
    members = [{"id": "28:bot-app-id"}, {"id": admin.user_id}]
    welcome = await admin.send(type="conversationUpdate", text=None, membersAdded=members)
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    case_id = re.search(r"MR-[A-Z0-9]{8}", joined(await admin.say("status"))).group(0)

    records = await admin.press("Start a recovery", welcome)
    assert f"Case {case_id} for {UPN} is open" in joined(records)
    assert "Which user's mailbox" not in joined(records)  # no second case opened silently
    records = await admin.press(f"Continue {case_id}")
    assert "Continued case" in joined(records)
    assert joined(await admin.say("cases")).count(f"{case_id} (current)") == 1 and "(1)" in joined(await admin.say("cases"))


async def test_a_case_closed_by_start_over_can_be_reopened(admin, playbook):
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    case_id = re.search(r"MR-[A-Z0-9]{8}", joined(await admin.say("status"))).group(0)
    await admin.say("start over")
    records = await admin.say(f"resume {case_id}")
    assert "was closed" in joined(records) and f"Reopen {case_id}" in joined(records)
    records = await admin.press(f"Reopen {case_id}")
    assert f"Reopened case {case_id} for {UPN}." in joined(records)
    assert is_step(step)(cards_of([r for r in records if r.kind == "send"])[-1])
    assert "State: in progress" in joined(await admin.say("status"))


def destructive_on_the_path(playbook: Playbook) -> tuple[Leaf, Step]:
    """A destructive step a first-option walk reaches (its values may have been collected earlier)."""
    for leaf in playbook.leaves.values():
        for step in path(playbook, leaf):
            if step.destructive and step.record:
                return leaf, step
    raise AssertionError("no destructive step on a first-option path")


async def test_a_case_confirmed_without_its_values_before_the_gate_existed_is_asked_again(admin, playbook, settings):
    leaf, destructive = destructive_on_the_path(playbook)
    await walk_to(admin, playbook, leaf, is_confirm(destructive))
    values = {f"value.{n}": value_for(playbook, n) for n in destructive.record}
    await admin.press("I have recorded them", **values)
    store = SqliteDocumentStore(settings.sqlite_path)  # as a case stored by a version without the gate
    index_key = f"cases/msteams/{admin.user_id}/index"
    current = (await store.read([index_key]))[index_key][0]["current_id"]
    key = f"cases/msteams/{admin.user_id}/{current}"
    document, e_tag = (await store.read([key]))[key]
    for name in destructive.record:
        del document["values"][name]
    await store.write(key, document, e_tag)
    await store.close()
    records = await admin.say("resume")
    assert is_confirm(destructive)(cards_of(records)[-1]) and "I have recorded them" in joined(records)
