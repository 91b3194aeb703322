"""Items 8, 9 and 11: what a caller can do to the HTTP edge before and around authentication:
forge or flood log lines, crash the parser with deep nesting, make the bot deserialise before it
authenticates, and hold a connection open by never finishing the body."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from urllib.parse import urlsplit

from tests.conftest import RunningBot
from tests.harness import Admin
from tests.security.conftest import TENANT, bearer

FORGED = "turn activity=forged type=message conversation=a:1 duration_ms=1.0 outcome=ok"


def bot_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("bot", "dialogs", "app", "mailbox_recovery")]


async def test_request_fields_cannot_forge_or_flood_log_lines(bot, connector, caplog):
    caplog.set_level("INFO")
    admin = Admin(bot.url, connector)
    await admin.send(text="hello", id=f"1\n{FORGED}")
    # (its reply cannot reach a conversation with that id: the turn fails, and is answered 500)
    await admin.post(
        admin.activity(text="hello", id="7" * 240_000, conversation={"id": "a:1\r\nx" + "c" * 10_000, "tenantId": TENANT})
    )
    await admin.close()
    lines = bot_lines(caplog)
    assert any(line.startswith("turn activity=") for line in lines)
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert len(line) < 1000
    assert not any(line.startswith(FORGED) for line in "\n".join(lines).splitlines())


async def test_nothing_of_an_unauthenticated_request_is_logged(secured_bot, connector, caplog):
    caplog.set_level("INFO")
    admin = Admin(secured_bot.url, connector, tenant_id=TENANT)
    response = await admin.post(admin.activity(text="hello", id="marker-unauthenticated-id"), headers={})
    await admin.close()
    assert response.status == 401
    assert "marker-unauthenticated-id" not in "\n".join(bot_lines(caplog))


async def test_deep_nesting_is_a_400_not_a_500(bot, connector):
    admin = Admin(bot.url, connector)
    statuses = [
        (await admin.post(None, raw=b"[" * 120_000)).status,
        (await admin.post(None, raw=b'{"type": "message", "value": ' + b"[" * 120_000 + b"]" * 120_000 + b"}")).status,
    ]
    still = await admin.post(admin.activity(text="hello"))
    await admin.close()
    assert statuses == [400, 400]
    assert still.status in (200, 201)


async def test_an_unauthenticated_caller_is_refused_before_the_body_is_deserialised(secured_bot, connector):
    # A body msrest cannot deserialise: authenticated first, the caller learns only 401.
    admin = Admin(secured_bot.url, connector, tenant_id=TENANT)
    response = await admin.post(admin.activity(text="hello", timestamp="not a time", conversation=7), headers={})
    await admin.close()
    assert response.status == 401


async def test_an_authenticated_body_that_does_not_deserialise_is_a_400(secured_bot, signing_key, connector):
    admin = Admin(secured_bot.url, connector, tenant_id=TENANT)
    body = admin.activity(text="hello", timestamp="not a time", conversation=7)
    response = await admin.post(body, headers=bearer(signing_key, connector.url))
    await admin.close()
    assert response.status == 400 and connector.records == []


async def test_a_client_that_stalls_its_body_is_answered_and_cut_off(settings):
    async with RunningBot(replace(settings, body_read_seconds=0.2)) as running:
        url = urlsplit(running.url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        body = json.dumps({"type": "message", "text": "hello"}).encode()
        writer.write(
            f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:10]  # ... and the rest never comes
        )
        await writer.drain()
        # The bound only keeps a broken bot from hanging the suite; the bot answers well within it.
        answer = await asyncio.wait_for(reader.read(), 30)
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive in time" in answer
