"""Remembering every admin's recovery, with real processes: kill -9 and restart, two instances
on one Azurite, the same activity twice, the store going away and coming back, old state."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime

from bot.storage import SqliteDocumentStore
from bot.storage.keys import owner_scope
from tests.harness import Admin, RoundRobinAdmin, cards_of, find_action, joined
from tests.processes import BotProcess
from tests.walker import UPN, path, walk_leaf

GUID = "0f1e2d3c-4b5a-4968-8776-655443322110"


def last_title(records) -> str:
    return cards_of([r for r in records if r.kind == "send"])[-1]["body"][0]["text"]


async def test_killed_bot_resumes_at_the_same_step_with_the_same_answers(tmp_path, connector):
    env = {"STATE_STORE": "sqlite", "SQLITE_PATH": str(tmp_path / "state.sqlite3")}
    bot = BotProcess(env, tmp_path / "bot.log").start()
    admin = Admin(bot.url, connector)
    try:
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        for label in ("Deleted", "Hard-deleted", "Present", "The user, who is coming back", "No"):  # A4, not hybrid
            await admin.press(label)
        await admin.press("Done")  # the Exchange Online window
        await admin.press("Done")  # the Graph window
        recorded = {"exchange_guid": GUID, "primary_smtp": "obrien@contoso.com", "legacy_dn": "/o=x/cn=obrien", "object_id": GUID}
        await admin.press("Done", **{f"value.{k}": v for k, v in recorded.items()})
        await admin.press("Done: No, that user is gone")
        await admin.press("Done: No (empty, or nothing listed)")  # the deleted AD user's msExchMailboxGuid
        bot.kill()
        restarted = BotProcess({**env, "PORT": str(bot.port)}, tmp_path / "bot.log").start()
        try:
            records = await admin.say("resume")  # the live card, updated in place
            assert cards_of(records)[-1]["body"][0]["text"].startswith("Before step 6 of up to ")
            assert cards_of(records)[-1]["body"][0]["text"].endswith(": Soft-delete the orphaned mailbox")
            assert GUID in json.dumps(cards_of(records))
            status = joined(await admin.say("status"))
            assert "Entra ID (Azure AD) account: Hard-deleted" in status
            assert "Record the mailbox's identifiers and put it on hold: done" in status
        finally:
            restarted.stop()
    finally:
        bot.stop()
        await admin.close()


async def test_two_instances_on_one_azurite_share_the_walkthrough(tmp_path, connector, azurite, playbook):
    env = {"STATE_STORE": "blob", "BLOB_CONNECTION_STRING": azurite.connection_string, "BLOB_CONTAINER": "shared"}
    first = BotProcess(env, tmp_path / "first.log").start()
    second = BotProcess(env, tmp_path / "second.log").start()
    admin = RoundRobinAdmin(first.url, connector)
    admin.urls = [first.url, second.url]
    try:
        walk = await walk_leaf(admin, playbook, {"onprem": "none", "entra": "soft_deleted", "mailbox": "soft_deleted"})
        assert admin.turn > 8
        assert [t.split(": ", 1)[1] for t in walk.step_titles] == [s.title for s in path(playbook, playbook.leaves["C6"])]
        assert playbook.complete_text in walk.ending_text
    finally:
        first.stop()
        second.stop()
        await admin.close()


async def test_the_same_activity_twice_at_once_is_processed_once(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    data, card_id = find_action(admin.history(), "Deleted")
    activity = admin.activity(value=data, replyToId=card_id)
    before = len(admin.history())
    statuses = await asyncio.gather(admin.post(activity), admin.post(activity))
    assert all(r.status in (200, 201) for r in statuses)
    replies = admin.history()[before:]
    assert [r.kind for r in replies] == ["update", "send"]  # the answered card, the next question: once
    assert "Question 2 of" in joined(replies)
    assert "On-premises Active Directory account: Deleted" in joined(await admin.say("status"))


async def test_store_down_then_back_the_case_continues(tmp_path, connector, azurite):
    env = {"STATE_STORE": "blob", "BLOB_CONNECTION_STRING": azurite.connection_string, "BLOB_CONTAINER": "flaky"}
    bot = BotProcess(env, tmp_path / "bot.log").start()
    admin = Admin(bot.url, connector)
    try:
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await admin.press("Present (synced)")
        azurite.stop()
        data, card_id = find_action(admin.history(), "Present")
        before = len(admin.history())
        response = await admin.post(admin.activity(value=data, replyToId=card_id))
        assert response.status == 500  # the turn failed: the channel is told so too
        records = admin.history()[before:]
        assert "cannot save your progress right now" in joined(records)
        assert "case is kept exactly as it was" in joined(records)
        azurite.start()
        records = await admin.press("Present")
        assert "Question 3 of up to 5: What is the current state of the user's Exchange Online mailbox?" in joined(records)
        status = joined(await admin.say("status"))
        assert "On-premises Active Directory account: Present (synced)" in status
        assert "Entra ID (Azure AD) account: Present" in status
    finally:
        bot.stop()
        await admin.close()


async def test_state_from_an_older_schema_and_an_unfit_stack_continue_from_the_case(admin, settings):
    await admin.say("hello")  # the conversation exists
    store = SqliteDocumentStore(settings.sqlite_path)
    v1_case = {
        "schema_version": 1,
        "id": "MR-OLD234",
        "owner_id": admin.aad_object_id,
        "upn": UPN,
        "answers": {"onprem": "present", "entra": "hard_deleted", "mailbox": "soft_deleted"},
        "sub_answers": {"inactive": "true", "sso": "no"},
        "values": {"upn": UPN},
        "leaf_id": "B8",
        "steps": {
            "connect": {"status": "done", "at": "2026-11-20T10:00:00+00:00"},
            "inactive_state": {"status": "done", "at": "2026-11-20T10:05:00+00:00"},
        },
        "created_at": "2026-11-20T10:00:00+00:00",
        "updated_at": "2026-11-20T10:05:00+00:00",
    }
    user_key = f"state/msteams/users/{admin.user_id}"
    book = {"schema_version": 1, "current_id": "MR-OLD234", "cases": {"MR-OLD234": v1_case}}
    await store.write(user_key, {"CaseBook": book}, "*")
    conversation_key = f"state/msteams/conversations/{admin.conversation_id}"
    stale_stack = {"$type": "DialogState", "stack": [{"$type": "DialogInstance", "id": "walkthrough-2024", "state": {}}]}
    await store.write(conversation_key, {"DialogState": stale_stack, "StackVersion": 0}, "*")
    await store.close()
    records = await admin.say("resume")
    text = joined(records)
    assert "Picking up case MR-OLD234" in text
    # The playbook asks B8 who needs the mail and whether this is Exchange hybrid since the case
    # was saved: asked now, in order.
    assert last_title(records).startswith("Question 4 of 6: Who needs this mailbox's content?")
    records = await admin.press("The user, who is coming back")
    assert last_title(records).startswith("Question 5 of 6: Is this an Exchange hybrid deployment")
    records = await admin.press("No")
    assert last_title(records).startswith("Step 2 of ")
    assert last_title(records).endswith(": Connect the Graph window")


async def test_returning_admin_sees_open_cases_newest_first_and_can_switch(admin):
    await admin.say("start")
    await admin.press("Next", upn="first.user@contoso.com")
    await admin.say("start new")
    await admin.press("Next", upn="second.user@contoso.com")
    records = await admin.say("hi")  # mid-question: an unknown word is re-asked, not a welcome
    assert "I did not understand 'hi'" in joined(records) and "Start a recovery" not in joined(records)
    records = await admin.say("cases")
    text = joined(records)
    assert text.index("second.user@contoso.com") < text.index("first.user@contoso.com")
    first_id = next(line.split(":")[0].strip() for line in text.splitlines() if "first.user@contoso.com" in line)
    records = await admin.say(f"resume {first_id}")
    assert "first.user@contoso.com" in joined(records)
    assert "Question 1 of" in last_title(records)
    status = joined(await admin.say("status"))
    assert "User: first.user@contoso.com" in status


async def test_two_instances_clicking_at_once_never_lose_an_update(settings, connector):
    from tests.conftest import RunningBot

    first, second = RunningBot(settings), RunningBot(settings)  # one SQLite file, two bots
    await first.start()
    await second.start()
    admin = Admin(first.url, connector)
    try:
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        deleted, card_id = find_action(admin.history(), "Deleted")
        present, _ = find_action(admin.history(), "Present (synced)")
        other = Admin(second.url, connector, aad_object_id=admin.aad_object_id, conversation_id=admin.conversation_id)
        before = len(admin.history())
        await asyncio.gather(admin.click(deleted, card_id), other.click(present, card_id))
        replies = joined(admin.history()[before:])
        # One click won; the other was re-run on the winner's state and told so: nothing half-done.
        assert len(re.findall(r"Question 2 of up to \d: What is the current state of the user's Entra ID", replies)) == 1
        assert "already answered" in replies
        status = joined(await admin.say("status"))
        assert ("account: Deleted" in status) != ("account: Present (synced)" in status)
        await other.close()
    finally:
        await admin.close()
        await first.stop()
        await second.stop()


async def test_a_turn_that_loses_the_e_tag_race_is_re_run_before_anything_is_sent(admin, monkeypatch, caplog):
    from bot.storage import Conflict
    from bot.turn.bot_storage import DocumentStorage

    await admin.say("start")
    await admin.press("Next", upn=UPN)
    real_write = DocumentStorage.write
    lost = []

    async def write_losing_once(self, changes):
        if not lost:
            lost.append(True)
            raise Conflict("another instance wrote first")
        return await real_write(self, changes)

    monkeypatch.setattr(DocumentStorage, "write", write_losing_once)
    before = len(admin.history())
    await admin.press("Deleted")
    replies = admin.history()[before:]
    assert lost and "re-running it" in caplog.text
    assert [r.kind for r in replies] == ["update", "send"]  # what the lost attempt said never left
    assert "Question 2 of" in joined(replies)


async def test_finished_cases_stay_readable(admin, playbook):
    walk = await walk_leaf(admin, playbook, {"onprem": "none", "entra": "present", "mailbox": "not_present"})
    assert playbook.complete_text in walk.ending_text
    listing = joined(await admin.say("cases")).splitlines()
    case_id = next(line.split()[0].rstrip(":") for line in listing if line.startswith("MR-"))
    await admin.say("start")
    text = joined(await admin.say(f"status {case_id}"))
    assert "State: complete" in text and "Assign an Exchange Online license: done" in text
    assert "Transcript of case" in joined(await admin.say(f"transcript {case_id}"))


async def test_retention_purges_old_cases_transcripts_and_records(monkeypatch):
    from bot.storage import MemoryDocumentStore
    from bot.storage.housekeeping import purge_once, retention_cutoff_iso
    from bot.walkthrough.case import CaseBook

    book = CaseBook()
    old = book.start("admin", "Adele", "tenant")
    old.updated_at = "2026-09-01T00:00:00.000+00:00"
    fresh = book.start("admin", "Adele", "tenant")
    assert book.purge_older_than(retention_cutoff_iso(30)) == [old.id]
    assert list(book.cases) == [fresh.id] and book.current_id == fresh.id

    store = MemoryDocumentStore()
    await store.write("transcripts/MR-OLD", {"entries": []}, None)
    await store.write("activities/c/1", {"at": 0}, None)
    now = time.time()
    monkeypatch.setattr("bot.storage.housekeeping.time.time", lambda: now + 10 * 86_400)
    counts = await purge_once(store, retention_days=30)
    assert counts["activities/"] == 1 and counts["transcripts/"] == 0  # a day for records, 30 for transcripts
    monkeypatch.setattr("bot.storage.housekeeping.time.time", lambda: now + 31 * 86_400)
    assert (await purge_once(store, retention_days=30))["transcripts/"] == 1
    # An admin's case index outlives the retention by two hours: it is rewritten only hourly.
    await store.write("cases/msteams/u/index", {"current_id": None, "cases": {}}, None)
    now = time.time()
    monkeypatch.setattr("bot.storage.housekeeping.time.time", lambda: now + 30 * 86_400 + 3600)
    assert (await purge_once(store, retention_days=30))["cases/"] == 0
    monkeypatch.setattr("bot.storage.housekeeping.time.time", lambda: now + 30 * 86_400 + 3 * 3600)
    assert (await purge_once(store, retention_days=30))["cases/"] == 1


async def test_ledger_processes_once_asks_to_retry_while_busy_and_takes_over_a_dead_attempt(monkeypatch):
    from bot.storage import MemoryDocumentStore
    from bot.storage.ledger import BUSY, DONE, PROCESS, ActivityLedger

    clock = [1000.0]
    monkeypatch.setattr("bot.storage.ledger.time.time", lambda: clock[0])
    ledger = ActivityLedger(MemoryDocumentStore(), takeover_seconds=10)
    assert await ledger.claim("c", "a1") == PROCESS
    assert await ledger.claim("c", "a1") == BUSY  # the first is still running somewhere
    await ledger.done("c", "a1")
    assert await ledger.claim("c", "a1") == DONE
    assert await ledger.claim("c", "a2") == PROCESS  # and its process dies
    clock[0] += 11
    assert await ledger.claim("c", "a2") == PROCESS  # taken over: never lost
    assert await ledger.claim("c", "a2") == BUSY


async def test_an_activity_being_processed_elsewhere_gets_503_and_is_processed_later(admin, settings):
    from bot.storage.ledger import ActivityLedger

    await admin.say("start")
    body = admin.activity(text=UPN)
    store = SqliteDocumentStore(settings.sqlite_path)
    await ActivityLedger(store).claim(admin.conversation_id, body["id"])  # another instance has it
    response = await admin.post(body)
    assert response.status == 503 and response.headers["Retry-After"] == "2"
    await store.delete([ActivityLedger.key(admin.conversation_id, body["id"])])  # that instance died; record gone
    await store.close()
    before = len(admin.history())
    assert (await admin.post(body)).status in (200, 201)
    assert "Question 1 of" in joined(admin.history()[before:])


async def test_a_turn_that_died_after_saving_shows_its_card_when_teams_redelivers_it(admin, settings, monkeypatch):
    # The process dies after the case (holding its new card's provisional id) was saved and before
    # the card left; Teams re-delivers the message and the re-run updates that card in place: a
    # card that never reached the admin is sent, not dropped.
    from bot.hosting.adapter import BufferingCloudAdapter
    from bot.storage.ledger import ActivityLedger

    real_flush = BufferingCloudAdapter.flush

    async def dying_flush(self, context, buffer):
        monkeypatch.setattr(BufferingCloudAdapter, "flush", real_flush)
        raise ConnectionResetError("cut off between the save and the send")

    monkeypatch.setattr(BufferingCloudAdapter, "flush", dying_flush)
    body = admin.activity(text="start")
    await admin.post(body)
    assert not cards_of(admin.history())  # the admin saw at most "something went wrong", no card
    store = SqliteDocumentStore(settings.sqlite_path)
    await store.delete([ActivityLedger.key(admin.conversation_id, body["id"])])  # its record, past takeover
    await store.close()
    assert (await admin.post(body)).status in (200, 201)
    assert "Which user's mailbox" in joined(admin.history())
    records = await admin.press("Next", upn=UPN)  # and the card works: its update lands on it
    assert "Question 1 of" in joined(records)


async def test_a_card_without_a_real_id_is_sent_late_unless_another_turn_is_still_sending_it(monkeypatch):
    from bot.hosting.outgoing import LOST, NEVER_SENT, SENDING, CardIds
    from bot.storage import MemoryDocumentStore

    clock = [1000.0]
    monkeypatch.setattr("bot.hosting.outgoing.time.time", lambda: clock[0])
    ids = CardIds(MemoryDocumentStore())
    mine, theirs = "pending-aaaaaaaaaaaa-1", "pending-bbbbbbbbbbbb-1"
    assert await ids.resolve("c", mine) == (None, NEVER_SENT)  # its turn died before sending
    await ids.begin("c", mine)
    assert await ids.resolve("c", mine) == (None, SENDING)  # another instance is sending it
    clock[0] += 11
    assert await ids.resolve("c", mine) == (None, LOST)  # that turn died mid-send
    await ids.remember("c", {mine: "real-1", "pending-aaaaaaaaaaaa-2": "real-2"})
    assert await ids.resolve("c", mine) == ("real-1", "")
    await ids.adopt("c", theirs, "real-9")  # sent late by a later turn: kept under its own turn
    await ids.adopt("c", "pending-aaaaaaaaaaaa-3", "real-3")  # added, the turn's other ids kept
    assert [(await ids.resolve("c", p))[0] for p in (theirs, mine, "pending-aaaaaaaaaaaa-2", "pending-aaaaaaaaaaaa-3")] == [
        "real-9",
        "real-1",
        "real-2",
        "real-3",
    ]
    assert await ids.resolve("c", "bot-activity-7") == ("bot-activity-7", "")  # a real id is itself


async def test_an_answer_rewrites_only_its_case_and_the_case_list_times_stay_exact(admin, settings):
    await admin.say("start")
    await admin.press("Next", upn="first.user@contoso.com")
    store = SqliteDocumentStore(settings.sqlite_path)
    index_key = f"cases/msteams/{admin.user_id}/index"
    index, index_e_tag = (await store.read([index_key]))[index_key]
    first_id = index["current_id"]
    case_key = f"cases/msteams/{admin.user_id}/{first_id}"
    _, case_e_tag = (await store.read([case_key]))[case_key]
    while datetime.now(UTC).strftime("%M:%S") >= "59:58":  # the index keeps the current case's hour
        await asyncio.sleep(0.5)
    await admin.press("Deleted")  # an answer on the current case: the case list has nothing new
    assert (await store.read([index_key]))[index_key][1] == index_e_tag
    case, newer_case_e_tag = (await store.read([case_key]))[case_key]
    assert newer_case_e_tag != case_e_tag and case["answers"]
    # Written at least hourly while its admin works (housekeeping purges what was not written).
    index["cases"][first_id]["updated_at"] = "2026-01-01T08:00:00.000+00:00"
    index_e_tag = await store.write(index_key, index, index_e_tag)
    await admin.press("Present")
    index, newer_index_e_tag = (await store.read([index_key]))[index_key]
    case, _ = (await store.read([case_key]))[case_key]
    assert newer_index_e_tag != index_e_tag and index["cases"][first_id]["updated_at"] == case["updated_at"]
    await admin.say("start new")  # the list changes: it is written, the first case's time exact
    await admin.press("Next", upn=UPN)
    index, _ = (await store.read([index_key]))[index_key]
    case, _ = (await store.read([case_key]))[case_key]
    assert index["current_id"] != first_id
    assert index["cases"][first_id]["updated_at"] == case["updated_at"]
    await store.close()


async def test_an_admins_expired_cases_are_purged_on_their_next_turn(admin, settings):
    await admin.say("start")
    await admin.press("Next", upn="old.user@contoso.com")
    await admin.say("start new")
    await admin.press("Next", upn=UPN)
    store = SqliteDocumentStore(settings.sqlite_path)
    key = f"cases/msteams/{admin.user_id}/index"
    index, e_tag = (await store.read([key]))[key]
    old_id = next(cid for cid, c in index["cases"].items() if c["upn"] == "old.user@contoso.com")
    index["cases"][old_id]["updated_at"] = "2020-01-01T00:00:00.000+00:00"  # far past RETENTION_DAYS
    await store.write(key, index, e_tag)
    transcript = f"transcripts/{owner_scope(admin.tenant_id, admin.aad_object_id)}/{old_id}/"  # the case's ref
    assert await store.read_prefix(transcript)
    text = joined(await admin.say("cases"))
    assert "old.user@contoso.com" not in text and UPN in text
    assert await store.read_prefix(transcript) == {}
    assert await store.read([f"cases/msteams/{admin.user_id}/{old_id}"]) == {}
    await store.close()
