"""The HTTP edge and the turn error handler: bad requests get clear statuses, a failing turn keeps
the admin's progress, and a stored dialog stack that no longer fits restarts from the case."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.storage import SqliteDocumentStore
from tests.harness import texts_of
from tests.walker import UPN


async def post_raw(url: str, data: bytes, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session, session.post(url, data=data, headers=headers) as response:
        return response.status


async def test_bad_requests_get_clear_statuses_and_the_bot_keeps_serving(bot, admin):
    activity = json.dumps(admin.activity(text="hello")).encode()
    json_type = {"Content-Type": "application/json"}
    assert await post_raw(bot.url, b"{not json", json_type) == 400
    assert await post_raw(bot.url, b"[1, 2]", json_type) == 400
    assert await post_raw(bot.url, b'{"text": "no type"}', json_type) == 400
    assert await post_raw(bot.url, activity, {"Content-Type": "text/plain"}) == 415
    assert await post_raw(bot.url, activity, {**json_type, "Authorization": "Bearer garbage"}) == 401
    assert await post_raw(bot.url, activity, {**json_type, "Authorization": "Basic dXNlcjpwYXNz"}) == 401
    assert await post_raw(bot.url, b'{"type": "message", "text": "' + b"x" * 400_000 + b'"}', json_type) == 413
    assert "Start a recovery" in "\n".join(texts_of(await admin.say("hello")))


async def test_healthz(bot):
    async with aiohttp.ClientSession() as session, session.get(bot.url.replace("/api/messages", "/healthz")) as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"


@pytest.mark.parametrize("error", [RuntimeError, KeyError])
async def test_a_failing_turn_tells_the_admin_and_keeps_progress(admin, monkeypatch, caplog, error):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.press("Deleted")

    def explode(*_args, **_kwargs):
        raise error("boom")

    monkeypatch.setattr("bot.cards.walkthrough.status_card", explode)
    before = len(admin.history())
    response = await admin.post(admin.activity(text="status"))
    assert response.status == 500  # the turn failed, and the edge says so (issue 21)
    text = "\n".join(texts_of(admin.history()[before:]))
    assert "Something went wrong on my side. Your progress is kept" in text and "escalate" in text
    # A bug in a card is a bug, not a stored dialog stack that no longer fits: nothing restarts.
    assert "did not fit" not in caplog.text and "Picking up case" not in text
    monkeypatch.undo()
    text = "\n".join(texts_of(await admin.say("status")))
    assert "On-premises Active Directory account: Deleted" in text and f"User: {UPN}" in text


async def test_a_stored_dialog_stack_that_no_longer_fits_restarts_from_the_case(admin, settings):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    await admin.press("Present (synced)")
    store = SqliteDocumentStore(settings.sqlite_path)
    key = f"state/msteams/conversations/{admin.conversation_id}"
    document, e_tag = (await store.read([key]))[key]
    # A deployment that renamed the dialogs: the stored stack names one that no longer exists.
    document["DialogState"]["stack"][0]["id"] = "recovery-v0"
    await store.write(key, document, e_tag)
    await store.close()
    records = await admin.say("whatever")
    text = "\n".join(texts_of(records))
    assert "Picking up case MR-" in text and "where you left it" in text
    assert "Question 2 of up to 6: What is the current state of the user's Entra ID" in text


async def test_tenant_is_read_from_channel_data(admin):
    await admin.say("start")
    await admin.press("Next", upn=UPN)
    records = await admin.say("escalate")
    assert "Escalate case" in "\n".join(texts_of(records))
    records = await admin.press("Send to support", description="x")
    assert admin.tenant_id in "\n".join(texts_of(records))
