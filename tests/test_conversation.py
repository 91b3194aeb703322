"""What an admin notices in the conversation: typed answers, commands mid-dialog, the dialect
switch, stale clicks, malformed submits, refused UPNs, cards updated in place, failure paths."""

from __future__ import annotations

import json
import re

from tests.harness import cards_of, find_action, joined
from tests.walker import UPN, settle_dates

A4 = ("Deleted", "Hard-deleted", "Present", "The user, who is coming back", "No")  # a returning user, not hybrid
RECORDED = {
    "value.exchange_guid": "0f1e2d3c-4b5a-4968-8776-655443322110",
    "value.primary_smtp": "obrien@contoso.com",
    "value.legacy_dn": "/o=ExchangeLabs/cn=Recipients/cn=obrien",
    "value.object_id": "1b3f4c5d-0000-4e2f-9a8b-123456789abc",
}


def last_card(records) -> dict:
    return cards_of([r for r in records if r.kind == "send"])[-1]


async def begin(admin, answers=A4):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    records = []
    for label in answers:
        records = await admin.press(label)
    return records + await settle_dates(admin)


async def test_welcome_card_on_install_says_what_it_does_and_never_asks_for_a_password(admin):
    records = await admin.send(
        type="conversationUpdate", text=None, membersAdded=[{"id": "28:bot-app-id"}, {"id": admin.user_id}]
    )
    text = joined(records)
    assert "never ask for a password" in text and "never run anything in your tenant" in text
    assert "Start a recovery" in text


async def test_any_first_message_gets_the_welcome(admin):
    assert "Start a recovery" in joined(await admin.say("hello"))


async def test_typed_answers_by_number_label_and_case(admin):
    await admin.say("start")
    records = await admin.say(UPN)
    assert "Question 1 of up to 6: What is the current state of the user's on-premises" in joined(records)
    records = await admin.say("1")
    assert "Question 2 of" in joined(records)
    records = await admin.say("HARD-DELETED")
    assert "Question 3 of" in joined(records)
    records = await admin.say("present")
    assert "Who needs this mailbox's content?" in joined(records)
    records = await admin.say("1")
    assert "Exchange hybrid deployment" in joined(records)
    records = await admin.say("no")
    assert "Your recovery plan" in joined(records) and "For support: route A4" in joined(records)


async def test_unrecognised_answer_gets_a_short_re_ask_and_changes_nothing(admin):
    await admin.say("start")
    await admin.say(UPN)
    records = await admin.say("purple")
    assert len(records) == 1
    assert "I did not understand 'purple'" in records[0].activity["text"]
    assert "1. Deleted, 2. Present (synced) or 3. No on-premises AD" in records[0].activity["text"]
    records = await admin.say("status")
    assert "On-premises Active Directory account: not answered" in joined(records)


async def test_refused_upn_says_what_is_wrong_and_asks_again(admin):
    await admin.say("start")
    records = await admin.press("Next", upn="jane\u2019s@contoso.com")
    assert "contains \u2019 (U+2019, right single quotation mark)" in joined(records)
    records = await admin.press("Next", upn="")
    assert "empty" in joined(records)
    records = await admin.say("jane.doe@contoso.com")
    assert "Question 1 of" in joined(records)


async def test_answered_card_is_updated_in_place_without_buttons(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    _, card_id = find_action(admin.history(), "Deleted")
    records = await admin.press("Deleted")
    update = next(r for r in records if r.kind == "update")
    assert update.activity_id == card_id
    content = update.activity["attachments"][0]["content"]
    assert "actions" not in content
    assert "Answer: Deleted" in joined([update])


async def test_stale_click_does_not_move_the_conversation(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    old_data, old_id = find_action(admin.history(), "Present (synced)")
    await admin.press("Deleted")
    records = await admin.click(old_data, old_id)
    assert "already answered" in joined(records)
    assert "You are at the question: What is the current state of the user's Entra ID" in joined(records)
    assert "On-premises Active Directory account: Deleted" in joined(await admin.say("status"))


async def test_stale_step_click_is_refused(admin):
    await begin(admin)
    first_done, first_id = find_action(admin.history(), "Done")
    await admin.press("Done", ExchangeGuid="x")
    records = await admin.click(first_done, first_id)
    assert "not the current step" in joined(records)
    assert "You are at step 2 of up to 21" in joined(records)


async def test_malformed_submits_get_a_short_answer_and_change_nothing(admin):
    await begin(admin)
    before = joined(await admin.say("status"))
    for value in (
        {"action": 7},
        {"unknown": "keys"},
        {"action": "step", "step": "connect", "result": "explode"},
        {"action": "answer", "question": "onprem", "option": "maybe"},
    ):
        records = await admin.send(value=value)
        assert len(records) == 1 and records[0].activity.get("text"), value
    records = await admin.send(text="x" * 50_000)
    assert "characters long" in joined(records)
    records = await admin.send(text="")
    assert "empty" in joined(records)
    after = joined(await admin.say("status"))
    assert before.split("\n")[:12] == after.split("\n")[:12]


async def test_help_status_and_dialect_switch_mid_dialog(admin):
    await begin(admin)
    records = await admin.say("help")
    assert "start over" in joined(records) and "You are at step 1 of up to 21" in joined(records)
    records = await admin.say("status")
    text = joined(records)
    assert f"User: {UPN}" in text and "Entra ID (Azure AD) account: Hard-deleted" in text
    assert "1. Connect the Exchange Online window: you are here" in text
    records = await admin.say("commands original")
    text = joined(records)
    assert "Retired commands" in text and "New-PSSession" in text
    await admin.press("Done")
    assert "Commands: original (retired)" in joined(await admin.say("status"))  # the choice stays with the case
    records = await admin.say("Commands Modern")  # step 2: the Graph window
    assert "Connect-MsolService" not in joined(records)
    assert "Connect-MgGraph -Scopes" in joined(records)


async def test_destructive_step_asks_to_record_values_first(admin):
    await begin(admin)
    await admin.press("Done")  # the Exchange Online window
    await admin.press("Done")  # the Graph window
    guid = RECORDED["value.exchange_guid"]
    await admin.press("Done", **RECORDED)
    await admin.press("Done: No, that user is gone")
    records = await admin.press("Done: No (empty, or nothing listed)")  # the deleted AD user's msExchMailboxGuid
    card = last_card(records)
    assert card["body"][0]["text"].startswith("Before step 6 of up to 21: Soft-delete the orphaned mailbox")
    assert "Remove-Mailbox deletes the mailbox" in joined(records)
    assert guid in json.dumps(card)  # the recorded value is shown back
    records = await admin.press("I have recorded them")
    text = joined(records)
    assert f"Remove-Mailbox -Identity '{guid}'" in text
    assert f"Get-Mailbox -SoftDeletedMailbox -Identity '{guid}'" in text


async def test_a_refused_value_brings_the_step_back_at_the_bottom_with_the_note(admin):
    await begin(admin)
    await admin.press("Done")
    step_three = next(r for r in await admin.press("Done") if r.kind == "send")
    records = await admin.press("Done", **{"value.exchange_guid": "not-a-guid"})
    assert "Not saved: The ExchangeGuid of the soft-deleted mailbox must be a GUID" in joined(records)
    # The card answered above loses its buttons; the same step comes again as the last card.
    assert [r.kind for r in records] == ["update", "send"] and records[0].activity_id == step_three.activity_id
    retired, again = cards_of(records)
    assert not retired.get("actions") and "Shown again below" in str(retired)
    assert again["body"][0]["text"].startswith("Step 3 of up to 21") and again.get("actions")


async def test_sub_question_answer_that_ends_in_support(admin):
    await begin(admin, ("Deleted", "Soft-deleted", "Present", "The user, who is coming back"))  # A7
    await admin.press("Done")
    await admin.press("Done")
    await admin.press(
        "Done", **{"value.object_id": "0f1e2d3c-4b5a-4968-8776-655443322110", "value.immutable_id": "AbCdEfGhIjKlMnOpQrStUw=="}
    )
    records = await admin.press("Done: No, they differ")
    assert "duplicate user object" in joined(records) and "This case needs Microsoft Support" in joined(records)


async def test_start_over_closes_the_case_and_begins_again(admin):
    await begin(admin)
    records = await admin.say("start over")
    assert "Which user's mailbox" in joined(records)
    records = await admin.say("cases")
    # The closed case is listed; the new one has no user yet, so it is not listed as an open case.
    assert "closed" in joined(records) and "user not chosen" not in joined(records)


async def test_escalate_without_a_support_channel_gives_everything_to_forward(admin):
    """Where no file can be sent (here: no sign-in, as in the Agents Playground), the compact
    ticket and the transcript in ONE collapsed card; the file consent: tests/test_transcript_file.py."""
    await begin(admin)
    records = await admin.say("escalate")
    assert "Escalate case MR-" in joined(records)
    records = await admin.press("Send to support", description="Remove-Mailbox said access denied")
    posted = cards_of([r for r in records if r.kind == "send"])
    assert len(posted) == 2  # the ticket and the transcript, never a run of transcript cards
    ticket, transcript = posted
    assert "No support team is connected" in json.dumps(ticket) and "Remove-Mailbox said access denied" in json.dumps(ticket)
    assert transcript["body"][0]["text"].startswith("Transcript of case MR-")
    (show,) = transcript["actions"]
    assert show["type"] == "Action.ShowCard" and show["title"] == "Show the transcript"
    assert "[answered] Who needs this mailbox's content?" in json.dumps(show["card"])  # the transcript, collapsed


async def test_a_click_on_another_cases_card_changes_nothing(admin):
    await admin.say("start")
    await admin.press("Next", upn="first.user@contoso.com")
    first_card = find_action(admin.history(), "Deleted")  # case 1's first question
    await admin.say("start new")
    await admin.press("Next", upn="second.user@contoso.com")
    records = await admin.click(*first_card)
    assert "That card belongs to another case" in joined(records)
    status = joined(await admin.say("status"))
    assert "User: second.user@contoso.com" in status and "Deleted" not in status


async def test_a_typed_answer_updates_its_card_in_place(admin):
    await admin.say("start")
    asked = await admin.say(UPN)  # typed, not clicked: the UPN card is updated all the same
    upn_card_id = next(r.activity_id for r in admin.history() if r.kind == "send" and "Which user's mailbox" in joined([r]))
    updates = [r for r in admin.history() if r.kind == "update" and r.activity_id == upn_card_id]
    assert updates and f"User: {UPN}" in joined(updates) and "actions" not in cards_of(updates)[-1]
    question_id = next(r.activity_id for r in asked if r.kind == "send" and "Question 1 of" in joined([r]))
    await admin.say("deleted")
    updates = [r for r in admin.history() if r.kind == "update" and r.activity_id == question_id]
    assert updates and "Answer: Deleted" in joined(updates) and "actions" not in cards_of(updates)[-1]


async def test_a_cases_transcript_holds_only_that_case(admin):
    await admin.say("start")
    await admin.press("Next", upn="other.user@contoso.com")
    other = re.search(r"MR-[A-Z0-9]{8}", joined(await admin.say("status"))).group(0)
    await admin.say("start new")
    await admin.press("Next", upn=UPN)
    await admin.say("cases")
    await admin.say(f"status {other}")
    await admin.say(f"transcript {other}")
    transcript = joined(await admin.say("transcript"))
    assert UPN in transcript
    assert other not in transcript and "other.user@contoso.com" not in transcript
