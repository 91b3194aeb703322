"""Escalation without a support channel: the compact ticket card, and the transcript as a file
through Teams' file consent (fileConsent/invoke accept and decline, the upload to the URL Teams
gives, here the loopback connector's), or one collapsed card where no file can be sent. Over real
HTTP, in the Teams wire format."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest

from bot.storage.keys import owner_scope
from bot.support.transcript import Entry
from bot.support.transcript_file import MAX_FILE_TRANSCRIPT, transcript_file
from bot.support.transcript_text import CONTINUATION
from bot.walkthrough.case import RecoveryCase
from tests.cardcheck import library_problems, schema_problems
from tests.harness import TENANT, Admin, Connector, Recorded, cards_of, find_action, flatten, joined
from tests.walker import UPN, is_step, step_without_alternative, walk_to

CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
FILE_CONSENT = "fileConsent/invoke"
SECRET = "abcdefghijklmnopqrstuvwxyz012345"
# What the admin pastes after 'It failed': the command's output, a bearer token in it, and a line
# that reads like one of the bot's own transcript lines.
PASTED = (
    "Remove-Mailbox : Access is denied. (403)\n"
    f"Authorization: Bearer {SECRET}\n"
    "2026-11-25T17:00:00.000+00:00 bot: Resolved, close this ticket."
)


@pytest.fixture
def settings(settings):
    return replace(settings, transcript_files=True)  # as in Teams (sign-in on); the tests run without sign-in


def attachments(records: list[Recorded], content_type: str) -> list[dict]:
    return [a for r in records for a in r.activity.get("attachments") or [] if a.get("contentType") == content_type]


def sends(records: list[Recorded]) -> list[Recorded]:
    return [r for r in records if r.kind == "send"]


async def escalate_after_a_failure(admin: Admin, playbook) -> tuple[list[Recorded], str]:
    """A step fails, the admin pastes its output, escalates: what the bot sent, and the case number."""
    leaf, step = step_without_alternative(playbook)
    await walk_to(admin, playbook, leaf, is_step(step))
    await admin.press("It failed")
    await admin.say(PASTED)
    await admin.say("escalate")
    records = await admin.press("Send to support", description="It did not work, see the error.")
    case_id = re.search(r"MR-[A-Z0-9]{8}", joined(records)).group(0)
    return records, case_id


def consent_value(action: str, case_id: str, upload_info: dict | None = None) -> dict:
    """A fileConsent/invoke's value as Teams sends it (uploadInfo only with accept)."""
    value = {"type": "fileUpload", "action": action, "context": {"case": case_id}}
    if upload_info is not None:
        value["uploadInfo"] = upload_info
    return value


async def accept(admin: Admin, case_id: str, upload_url: str | None = None, **fields):
    info = admin.connector.upload_info(f"transcript-{case_id}.txt", upload_url)
    return await admin.invoke(FILE_CONSENT, consent_value("accept", case_id, info), **fields)


def collapsed(records: list[Recorded]) -> dict:
    """The one collapsed transcript card among these records."""
    (content,) = [c for c in cards_of(sends(records)) if flatten(c).startswith("Transcript of case")]
    (show,) = content["actions"]
    assert show["type"] == "Action.ShowCard" and show["title"] == "Show the transcript"
    return content


async def test_escalation_posts_the_ticket_and_offers_the_transcript_file(admin, playbook, connector, bot):
    records, case_id = await escalate_after_a_failure(admin, playbook)

    posted = sends(records)
    assert len(posted) == 2  # the ticket card and the file consent card, nothing else
    ticket = cards_of(posted)[0]
    text = flatten(ticket)
    for expected in (f"Case {case_id} is ready for support", "No support team is connected", UPN, TENANT, "Where it stopped"):
        assert expected in text, expected
    assert "Remove-Mailbox : Access is denied. (403)" in text and "Error pasted" in text  # what support asks for first
    assert SECRET not in text and "[redacted token]" in text
    assert f"\n{CONTINUATION}2026-11-25T17:00:00.000+00:00 bot: Resolved" in text  # the pasted lines stay the paste's
    assert "Transcript of case" not in joined(records)  # not one line of the transcript in the chat

    (consent,) = attachments(posted, CONSENT)
    assert consent["name"] == f"transcript-{case_id}.txt"
    assert consent["content"]["acceptContext"] == {"case": case_id} == consent["content"]["declineContext"]
    assert case_id in consent["content"]["description"]
    # The size offered is the file's as it stood then: the transcript before this turn's own entries.
    ref = f"{owner_scope(TENANT, admin.aad_object_id)}/{case_id}"
    services = bot.assembly.services
    turns = await services.transcripts._turns(ref)
    before = [e for key, turn in list(turns.items())[:-1] for e in turn["entries"]]
    stored = await services.escalation.tickets.load(ref)
    expected = transcript_file(case_id, [Entry(**e) for e in before], stored.summary)
    assert consent["content"]["sizeInBytes"] == expected.size

    now = (await services.escalation.transcript_file(await stored_case(bot, admin, case_id))).text
    status, _, answered = await accept(admin, case_id)
    assert status == 200
    (put,) = connector.uploads
    assert put.name == f"transcript-{case_id}.txt" and put.query == "session=t0ken"  # the URL Teams gave, as given
    size = len(put.body)
    assert put.headers["Content-Length"] == str(size) and put.headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    body = put.body.decode("utf-8")
    assert body == now and f"[file offered] transcript-{case_id}.txt" in body  # read afresh from the store
    assert "Remove-Mailbox : Access is denied. (403)" in body and "Error pasted" in body
    assert SECRET not in body and "[redacted token]" in body
    # The pasted line that reads like the bot's is marked as a continuation of the admin's entry.
    transcript = body.split("\nTranscript\n----------\n", 1)[1]
    assert (
        f" admin: Remove-Mailbox : Access is denied. (403)\n{CONTINUATION}Authorization: Bearer [redacted token]\n"
        f"{CONTINUATION}2026-11-25T17:00:00.000+00:00 bot: Resolved, close this ticket.\n" in transcript
    )
    assert "\n2026-11-25T17:00:00.000+00:00 bot: Resolved" not in body

    (info,) = attachments(answered, FILE_INFO)
    uploaded = connector.upload_info(f"transcript-{case_id}.txt")
    assert info["name"] == uploaded["name"] and info["contentUrl"] == uploaded["contentUrl"]
    assert info["content"] == {"uniqueId": uploaded["uniqueId"], "fileType": "txt"}
    assert cards_of(answered) == []  # no fallback card


async def stored_case(bot, admin: Admin, case_id: str) -> RecoveryCase:
    """The case as the store has it (for the desk's own rendering of the file)."""
    found = await bot.assembly.documents.read([f"cases/msteams/{admin.user_id}/{case_id}"])
    return RecoveryCase.from_dict(next(iter(found.values()))[0])


async def test_a_replayed_accept_uploads_once_and_is_answered_both_times(admin, playbook, connector):
    _, case_id = await escalate_after_a_failure(admin, playbook)
    first = await accept(admin, case_id, id="1700000000001")
    again = await accept(admin, case_id, id="1700000000001")  # Teams delivers the same invoke again
    assert first[0] == again[0] == 200
    assert len(connector.uploads) == 1
    assert len(attachments(first[2], FILE_INFO)) == 1 and again[2] == []


async def test_declined_the_transcript_comes_as_one_collapsed_card(admin, playbook, connector):
    escalated, case_id = await escalate_after_a_failure(admin, playbook)
    status, _, records = await admin.invoke(FILE_CONSENT, consent_value("decline", case_id))
    assert status == 200 and connector.uploads == []
    assert len(sends(records)) == 1
    content = collapsed(records)
    assert "You declined the file, so it was not sent" in flatten(content)
    shown = flatten(content["actions"][0]["card"])
    assert "Remove-Mailbox : Access is denied. (403)" in shown and SECRET not in shown
    assert all(block["type"] in ("RichTextBlock", "TextBlock") for block in content["actions"][0]["card"]["body"])
    ticket = cards_of(sends(escalated))[0]
    assert [schema_problems(c) for c in (ticket, content)] == [[], []]
    assert library_problems([ticket, content]) == [[], []]


async def test_a_failed_upload_falls_back_to_the_collapsed_card(admin, playbook, connector):
    _, case_id = await escalate_after_a_failure(admin, playbook)
    connector.fail_upload = [500]
    status, _, records = await accept(admin, case_id)
    assert status == 200
    assert [u.status for u in connector.uploads] == [500]  # tried once, on the URL Teams gave
    assert attachments(records, FILE_INFO) == [] and len(sends(records)) == 1
    assert "could not be uploaded, so it was not sent" in flatten(collapsed(records))


async def test_a_forged_accept_for_another_admins_case_uploads_nothing(admin, make_admin, playbook, connector):
    _, case_id = await escalate_after_a_failure(admin, playbook)
    mallory = make_admin(name="Mallory")
    await mallory.say("start")
    status, _, records = await accept(mallory, case_id)
    assert status == 403
    assert connector.uploads == [] and attachments(records, FILE_INFO) == []
    assert "not from one of your cases; nothing was uploaded" in joined(records)
    assert "Access is denied" not in joined(records)  # nothing of the other admin's case
    await mallory.close()


@pytest.mark.parametrize(
    "upload_url",
    [
        "http://contoso-my.sharepoint.com/personal/adele/upload",  # not https
        "https://contoso-my.sharepoint.com.evil.example/upload",  # https, but not OneDrive
        "http://169.254.169.254/metadata/upload",  # not loopback, not https
        "other-loopback",  # loopback, but not the local connector
    ],
)
async def test_an_upload_url_that_is_not_onedrive_or_the_local_connector_is_refused(
    admin, playbook, connector, upload_url, caplog
):
    _, case_id = await escalate_after_a_failure(admin, playbook)
    other = Connector()
    await other.start()
    try:
        url = f"{other.url}upload/x?session=t0ken" if upload_url == "other-loopback" else upload_url
        with caplog.at_level(logging.WARNING, logger="bot.hosting.file_upload"):
            status, _, records = await accept(admin, case_id, url)
        assert status == 200
        assert connector.uploads == [] and other.uploads == []
        assert "file upload refused" in caplog.text and "t0ken" not in caplog.text  # never the URL's query in a log
        assert attachments(records, FILE_INFO) == []
        assert "could not be uploaded, so it was not sent" in flatten(collapsed(records))
    finally:
        await other.stop()


async def test_outside_a_personal_chat_the_transcript_is_one_collapsed_card(admin, playbook, connector):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.say("escalate")
    data, card_id = find_action(admin.history(), "Send to support")
    group = {"conversationType": "groupChat", "tenantId": TENANT, "id": admin.conversation_id}
    records = await admin.send(value={**data, "description": "from a group chat"}, replyToId=card_id, conversation=group)
    assert len(sends(records)) == 2 and attachments(records, CONSENT) == []
    assert "Files cannot be sent in this chat" in flatten(collapsed(records))


async def test_the_transcript_command_offers_the_file(admin, connector):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    records = await admin.say("transcript")
    assert len(sends(records)) == 1
    (consent,) = attachments(records, CONSENT)
    case_id = consent["content"]["acceptContext"]["case"]
    status, _, answered = await accept(admin, case_id)
    assert status == 200 and len(attachments(answered, FILE_INFO)) == 1
    assert f"[user] {UPN}" in connector.uploads[0].body.decode("utf-8")


def test_the_collapsed_card_stays_one_message_however_long_the_transcript():
    from bot.cards.support import collapsed_transcript_card

    entries = [Entry("2026-11-25T17:00:00.000+00:00", "admin", "Get-Mailbox " + "x" * 3_900) for _ in range(200)]
    content = collapsed_transcript_card(entries, "MR-ABCDEFGH", "The file was not sent.")
    assert len(json.dumps(content).encode("utf-16-le")) < 80_000
    inner = content["actions"][0]["card"]["body"]
    assert "earlier entries are left out" in inner[0]["text"]
    assert flatten(content["actions"][0]["card"]).count("Get-Mailbox") < 200


def test_the_upload_policy():
    from bot.hosting.file_upload import UploadPolicy

    local = UploadPolicy(local_service_url="http://127.0.0.1:56150/_connector")
    production = UploadPolicy()
    url = "https://contoso-my.sharepoint.com/personal/adele/_api/v2.0/drive/items/1/uploadSession?guid=x"
    assert production.allows(url) and local.allows(url)
    assert local.allows("http://127.0.0.1:56150/upload/x?session=1")
    for refused in (
        "http://127.0.0.1:56150/upload/x",  # loopback with sign-in on (no local connector)
        "https://contoso.sharepoint.com:8443/x",  # another port
        "https://user:pw@contoso.sharepoint.com/x",
        "https://sharepoint.com.evil.example/x",
        "ftp://contoso.sharepoint.com/x",
        "https://contoso.sharepoint.com/x#frag",
        None,
    ):
        assert not production.allows(refused), refused
    assert not local.allows("http://127.0.0.1:56151/upload/x") and not local.allows("http://localhost:56150/upload/x")


def test_the_file_keeps_a_big_transcript():
    entries = [Entry("2026-11-25T17:00:00.000+00:00", "bot", "y" * 3_000) for _ in range(100)]
    assert transcript_file("MR-ABCDEFGH", entries).text.count("y" * 3_000) == 100 and MAX_FILE_TRANSCRIPT > 300_000


async def test_an_accept_after_the_admin_moved_on_uploads_that_cases_transcript(admin, playbook, connector):
    _, case_id = await escalate_after_a_failure(admin, playbook)
    await admin.say("start")  # another case is current now
    await admin.press("Next", upn="someone.else@contoso.com")
    status, _, records = await accept(admin, case_id)
    assert status == 200 and len(attachments(records, FILE_INFO)) == 1
    body = connector.uploads[0].body.decode("utf-8")
    assert f"Mailbox recovery case {case_id}" in body and "someone.else@contoso.com" not in body


async def test_the_same_turn_run_again_does_not_upload_twice(connector):
    from bot.hosting.file_upload import TranscriptUploader, UploadFailed, UploadPolicy

    uploader = TranscriptUploader(UploadPolicy(local_service_url=connector.url))
    url = connector.upload_info("t.txt")["uploadUrl"]
    try:
        await uploader.upload(url, b"once", once_per=("a:1", "activity-1"))
        await uploader.upload(url, b"once", once_per=("a:1", "activity-1"))  # the turn re-run on fresh state
        assert len(connector.uploads) == 1
        connector.fail_upload = [503]
        with pytest.raises(UploadFailed):
            await uploader.upload(url, b"twice", once_per=("a:1", "activity-2"))
        with pytest.raises(UploadFailed):  # answered as the first run was, without a second PUT
            await uploader.upload(url, b"twice", once_per=("a:1", "activity-2"))
        assert len(connector.uploads) == 2
    finally:
        await uploader.close()


async def test_an_upload_is_never_redirected(admin, playbook, connector):
    _, case_id = await escalate_after_a_failure(admin, playbook)
    elsewhere = Connector()
    await elsewhere.start()
    try:
        connector.redirect_upload = f"{elsewhere.url}upload/x"
        status, _, records = await accept(admin, case_id)
        assert status == 200 and [u.status for u in connector.uploads] == [307] and elsewhere.uploads == []
        assert "could not be uploaded, so it was not sent" in flatten(collapsed(records))
    finally:
        await elsewhere.stop()


def test_the_manifest_declares_file_support():
    from bot.app_package import MANIFEST_DIR

    manifest = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert [bot["supportsFiles"] for bot in manifest["bots"]] == [True]
