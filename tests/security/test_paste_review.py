"""The security review of this round's paste and upload paths: what a paste carries is shown as
written and kept only as a typed value would be; the wait gate holds for a pasted verdict; an
upload URL aiohttp cannot encode falls back instead of failing the turn."""

from __future__ import annotations

import asyncio

import pytest

from bot.cards.progress import step_summary_card
from bot.diagnostics.apply import apply
from bot.diagnostics.assess import assess
from bot.diagnostics.reading import merge, read_paste
from bot.diagnostics.verify import verify
from bot.hosting.file_upload import TranscriptUploader, UploadFailed, UploadPolicy
from bot.playbook import load_playbook
from bot.walkthrough.case import RecoveryCase, StepRecord
from tests.diagnostics import corpus
from tests.harness import TENANT, joined

playbook = load_playbook()
LINK = "[Sign in again to continue](https://evil.example/login)"


def case_from(paste: str) -> RecoveryCase:
    case = RecoveryCase("MR-ABC234", "admin-1", upn=corpus.UPN, tenant_id=TENANT)
    case.values["upn"] = corpus.UPN
    reading = read_paste(paste, upn=corpus.UPN, now=corpus.NOW, tenant_id=TENANT)
    assert reading.problems == []
    case.evidence, _ = merge({}, reading)
    return case


def soft_deleted_paste(**fields) -> str:
    box = corpus.mailbox(corpus.OLD_GUID, deleted=corpus.SOFT_DELETED_AT, inactive=True, hold=True)
    box.update(fields)
    return corpus.console(corpus.exo(soft=[box], inactive=[box], user_kind=None))


def markdown_surfaces(card: dict) -> list[str]:
    """Every string a Teams card renders as Markdown: TextBlock texts and FactSet values."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(str(node.get("text", "")))
            if node.get("type") == "FactSet":
                found.extend(str(f["value"]) for f in node["facts"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def test_a_markdown_link_in_a_pasted_name_is_shown_as_written_on_the_step_summary():
    case = case_from(soft_deleted_paste(Name=LINK))
    case.evidence = corpus.read_all(corpus.CORPUS["C8"])
    case.evidence["exo"]["mailboxes"][0]["name"] = LINK
    apply(case, assess(case.evidence, playbook, now=corpus.NOW), playbook, mail_for="returning")
    assert case.values["name"] == LINK  # kept as written (it is a name) ...
    leaf = playbook.leaves[case.leaf_id]
    step = leaf.step("inactive_state")
    case.steps[step.id] = StepRecord("done", "2026-11-25T14:06:00+00:00")
    card = step_summary_card(leaf, step, case, playbook, "")
    assert LINK in str(card) and not any(LINK in text for text in markdown_surfaces(card))  # ... never as Markdown


def test_a_pasted_distinguished_name_is_never_said_in_a_chat_message():
    user = corpus.ad_object()
    user["DistinguishedName"] = LINK
    verdict = verify({}, case_from(corpus.console(corpus.ad(user))).evidence, "ad_restored", {})
    assert verdict is not None and "evil.example" not in verdict.message


def test_a_pasted_value_is_kept_only_as_a_typed_one_would_be():
    case = case_from(soft_deleted_paste(Name="Temp password: Summer2026!"))
    assert "name" not in assess(case.evidence, playbook, now=corpus.NOW).values  # the redaction screen
    long = "SMTP:" + corpus.UPN + "".join(f";smtp:alias{n:04d}@contoso.com" for n in range(250))
    case = case_from(soft_deleted_paste(EmailAddresses=long))
    assert "email_addresses" not in assess(case.evidence, playbook, now=corpus.NOW).values  # the length cap


def test_an_upload_url_that_cannot_be_encoded_is_refused_or_fails_cleanly():
    url = "https://a..sharepoint.com/personal/x/_api/upload?tempauth=SECRET"
    assert not UploadPolicy().allows(url)

    async def upload() -> None:
        uploader = TranscriptUploader(UploadPolicy())
        uploader.policy.allows = lambda _url: True  # past the policy: the client's own failure
        try:
            await uploader.upload(url, b"x", once_per=("c", "a"))
        finally:
            await uploader.close()

    with pytest.raises(UploadFailed):
        asyncio.run(upload())


async def test_a_pasted_verdict_before_the_wait_is_over_is_not_yet(person, clock, playbook):
    from tests.walker import is_step, path, walk_to

    leaf, step = next(
        (leaf, s)
        for leaf in playbook.leaves.values()
        for s in path(playbook, leaf)
        if s.id == "compare_exchange_guids" and s.wait_minutes
    )
    await walk_to(person, playbook, leaf, is_step(step))
    now = clock.now().strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    on_prem = corpus.ad(corpus.ad_object(hybrid=True), read_at=now)
    cloud = corpus.exo(active=[corpus.mailbox(corpus.NEW_GUID)], user_kind=None, read_at=now)
    records = await person.say(corpus.console(on_prem, cloud))
    assert "The wait is not over yet" in joined(records)
    assert "in progress" in joined(await person.say("status"))
