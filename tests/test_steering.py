"""A conversation the admin can steer: 'not yet' on a wait, back and change an answer, cancel,
one live card at the bottom, words understood. Over real HTTP, as Teams sends activities."""

from __future__ import annotations

from bot.cards.walkthrough import minutes_words
from bot.playbook import Playbook, Step
from bot.walkthrough.rules import check_every
from tests.harness import Admin, cards_of, joined
from tests.walker import button_titles, is_step, latest_card, path, settle_dates, title, walk_to


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


# --- 2. back, change an answer, cancel ---------------------------------------------------------

C_SOFT = ("No on-premises AD", "Soft-deleted", "Soft-deleted")  # a cloud-only user, both soft-deleted
C_PRESENT = ("No on-premises AD", "Present", "Soft-deleted")


async def answer_scoping(admin: Admin, labels: tuple[str, ...]) -> list:
    await admin.say("start")
    await admin.press("Next", upn="jane.doe@contoso.com")
    records = []
    for label in labels:
        records += await admin.press(label)
    records += await admin.press("The user, who is coming back")  # who needs the mail, asked before the plan
    return records + await settle_dates(admin)


async def press_done(admin: Admin) -> list:
    return await admin.press("Done") + await settle_dates(admin)


async def test_back_at_a_question_asks_the_previous_one_again(admin):
    await admin.say("start")
    await admin.press("Next", upn="jane.doe@contoso.com")
    await admin.press("No on-premises AD")
    records = await admin.say("go back")
    assert "Back to the question" in joined(records)
    card, _ = latest_card(admin)
    assert "on-premises" in title(card).lower() and "No on-premises AD" in button_titles(card)
    records = await admin.say("undo")  # back again: which user
    assert "Which user's mailbox" in joined(records)


async def test_undo_in_the_steps_reopens_the_previous_step_with_its_values(admin, playbook):
    await answer_scoping(admin, C_SOFT)
    first, _ = latest_card(admin)
    await press_done(admin)
    records = await admin.say("undo")
    assert "Back to the step" in joined(records)
    card, _ = latest_card(admin)
    assert title(card) == title(first) and "Done" in button_titles(card)
    line = joined(await admin.say("status")).split(title(first).split(": ", 1)[1], 1)[1].split("\n", 1)[0]
    assert "you are here" in line and "done" not in line


async def test_change_an_answer_on_the_plan_recomputes_it_and_says_what_changed(admin, playbook):
    records = await answer_scoping(admin, C_SOFT)
    plan = next(c for c in cards_of(records) if title(c) == "Your recovery plan")
    assert "Change an answer" in button_titles(plan)
    records = await admin.press("Change an answer")
    picker = cards_of(records)[-1]
    entra = next(t for t in button_titles(picker) if "Entra" in t)
    records = await admin.press(entra)
    assert "Answer it again" in joined(records)
    records = await admin.press("Present")
    records += await settle_dates(admin)  # the new scenario may run a clock of its own
    assert "Your recovery plan" in joined(records) and "The plan changed" in joined(records)
    status = joined(await admin.say("status"))
    assert "Present" in status


async def test_cancel_asks_first_when_values_are_recorded_and_resume_brings_it_back(admin, playbook):
    await answer_scoping(admin, C_SOFT)
    card, _ = latest_card(admin)
    records = await admin.say("cancel")  # nothing recorded yet: put aside at once
    assert "put aside, nothing lost" in joined(records)
    records = await admin.say("resume")
    assert title(cards_of(records)[-1]) == title(card)
    # With a step done it asks first; 'Keep going' keeps the case, 'Put it aside' puts it aside.
    await press_done(admin)
    records = await admin.say("stop")
    assert "Put case" in joined(records) and "put aside, nothing lost" not in joined(records)
    records = await admin.press("Keep going")
    asked = [r for r in records if r.kind == "update" and "Kept going." in joined([r])]
    assert asked and not cards_of(asked)[0].get("actions")  # the question card cannot put it aside later
    assert "in progress" in joined(await admin.say("status"))
    await admin.say("quit")
    records = await admin.press("Put it aside")
    assert "put aside, nothing lost" in joined(records)
    records = await admin.say("resume")  # nothing was lost: it carries on at the step it was at
    assert "recovering the mailbox of jane.doe@contoso.com" in joined(records) and button_titles(cards_of(records)[-1])


async def test_start_over_asks_before_closing_a_case_with_progress(admin):
    await answer_scoping(admin, C_SOFT)
    await press_done(admin)
    records = await admin.say("start over")
    assert "Close case" in joined(records) and "Close it and start over" in str(cards_of(records))
    records = await admin.press("Keep going")
    assert "in progress" in joined(await admin.say("status"))
    await admin.say("start over")
    records = await admin.press("Close it and start over")
    assert "Which user's mailbox" in joined(records)


# --- 9. lists that hide nothing ----------------------------------------------------------------


async def test_cases_says_how_many_there_are_and_each_row_has_its_button(admin):
    for n in range(7):
        await admin.say("start new")
        await admin.press("Next", upn=f"user{n}@contoso.com")
    records = await admin.say("cases")
    text = joined(records)
    assert "(5 of 7: say 'cases all' for every one)" in text
    rows = [e for e in cards_of(records)[-1]["body"] if e.get("type") == "ActionSet"]
    assert len(rows) == 5 and all(len(r["actions"]) == 1 for r in rows)
    records = await admin.say("cases all")
    assert "Your recovery cases (7)" in joined(records)
    records = await admin.press(button_titles_of_rows(cards_of(records)[-1])[1])
    assert "Switched to case" in joined(records)


def button_titles_of_rows(card: dict) -> list[str]:
    return [a["title"] for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]]


# --- 5. words understood -----------------------------------------------------------------------


async def test_an_error_typed_on_a_step_is_it_failed_with_that_error_read_against_the_catalog(admin):
    await answer_scoping(admin, C_SOFT)
    records = await admin.say(
        "Connect-MgGraph : Method not found: 'Void Microsoft.Identity.Client.WithLogging'. Password: Hunter2!Summer"
    )
    text = joined(records)
    assert "Open a new PowerShell window for Microsoft Graph" in text  # the catalog's advice
    failure = cards_of(records)[-1]
    assert "Try the step again" in button_titles(failure)
    pasted = next(e for e in failure["body"] if e.get("id") == "error")
    assert "Method not found" in pasted["value"] and "Hunter2" not in pasted["value"]
    assert "failed" not in joined(await admin.say("status")).lower()  # nothing is marked failed before a choice


async def test_questions_about_the_step_are_answered_from_its_own_fields(admin, playbook):
    await answer_scoping(admin, C_SOFT)
    _, card_id = latest_card(admin)
    records = await admin.say("where do I run this?")
    assert joined(records).startswith("Run it in the ") and not cards_of(records)  # a line; the card stays
    records = await admin.say("how long does this take")
    assert "no wait" in joined(records) or "Wait: up to" in joined(records)
    records = await admin.say("what does this do?")
    leaf = playbook.leaf_for({"onprem": "none", "entra": "soft_deleted", "mailbox": "soft_deleted"})
    assert joined(records) == leaf.steps[0].why
    assert latest_card(admin)[1] == card_id
    records = await admin.say("skip")
    assert "cannot be skipped" in joined(records)
    records = await admin.say("done, no errors")
    assert "Step 2 of" in joined(records + await settle_dates(admin))


# --- 4. one thing asked at a time ---------------------------------------------------------------


async def test_after_the_last_answer_one_card_asks_one_thing(admin):
    await admin.say("start")
    await admin.press("Next", upn="jane.doe@contoso.com")
    for label in C_SOFT:
        records = await admin.press(label)
    records += await admin.press("The user, who is coming back")
    live = [c for c in cards_of(records) if c.get("actions") and "Change an answer" not in button_titles(c)]
    assert len(live) == 1 and "When was the user deleted in Entra ID?" in str(live[0])  # a date, alone
    assert "Your recovery plan" not in joined(records)
    records = await admin.press("I don't know")
    assert "Your recovery plan" in joined(records)
    asking = [c for c in cards_of(records) if c.get("actions") and "Change an answer" not in button_titles(c)]
    assert len(asking) == 1 and title(asking[0]).startswith("Step 1 of")  # the plan, then step 1: no date card


# --- 10. the admin's own words and time ----------------------------------------------------------


async def test_times_are_shown_in_the_admins_time_zone_and_in_utc_without_one(make_admin):
    berlin = make_admin(time_zone="Europe/Berlin")
    await answer_scoping(berlin, C_SOFT)
    records = await press_done(berlin)
    done_line = next(e["text"] for c in cards_of(records) for e in c["body"] if str(e.get("text", "")).startswith("Done at"))
    assert done_line.endswith(("CET", "CEST")) and "UTC" not in done_line
    nowhere = make_admin(time_zone="Mars/Olympus_Mons")  # not a zone: UTC
    await answer_scoping(nowhere, C_SOFT)
    records = await press_done(nowhere)
    done_line = next(e["text"] for c in cards_of(records) for e in c["body"] if str(e.get("text", "")).startswith("Done at"))
    assert done_line.endswith("UTC")


async def test_no_code_words_reach_the_admin_on_a_failure(admin):
    await answer_scoping(admin, C_SOFT)
    text = joined(await admin.press("It failed"))
    for words in ("playbook", "walkthrough has no", "Nothing is marked failed", "scenario C"):
        assert words not in text


# --- 8. the simple case as simple as the admin center --------------------------------------------


async def test_a_cloud_only_restore_offers_the_admin_center_first_and_done_needs_no_id(admin):
    await answer_scoping(admin, C_SOFT)
    for _ in range(4):
        card, _ = latest_card(admin)
        if "Restore" in title(card):
            break
        await press_done(admin)
    card, _ = latest_card(admin)
    text = str(card)
    assert "Simplest: Microsoft 365 admin center" in text and "Or with PowerShell:" in text
    assert text.index("Simplest:") < text.index("Restore-MgDirectoryDeletedItem")
    records = await press_done(admin)  # restored in the admin center: no object id to paste
    assert "Not done yet" not in joined(records)
