"""Item 12: fetching the Bot Framework's signing keys never holds up the event loop: while the
OpenID endpoint hangs, /healthz and other requests are still answered."""

from __future__ import annotations

import asyncio
import threading

import aiohttp

from tests.conftest import RunningBot
from tests.credentials import LoopbackCredentials
from tests.harness import Admin, wait_for
from tests.security.conftest import TENANT, bearer, secured

# Only so that a bot that blocks its event loop cannot hang the suite for ever: it lets the
# endpoint go after this long, and the test then sees that /healthz did not answer before.
SAFETY_RELEASE_SECONDS = 15


async def test_healthz_answers_while_the_openid_endpoint_hangs(settings, openid, signing_key, connector):
    openid.serving.clear()
    valve = threading.Timer(SAFETY_RELEASE_SECONDS, openid.serving.set)
    valve.start()
    try:
        async with RunningBot(secured(settings, openid), credentials_factory=LoopbackCredentials()) as running:
            admin = Admin(running.url, connector, tenant_id=TENANT)
            message = asyncio.create_task(admin.post(admin.activity(text="hello"), headers=bearer(signing_key, connector.url)))
            await wait_for(lambda: openid.fetches >= 1, timeout=30)
            healthz = running.url.replace("/api/messages", "/healthz")
            async with aiohttp.ClientSession() as client, client.get(healthz, timeout=aiohttp.ClientTimeout(total=60)) as answer:
                status = answer.status
            answered_while_blocked = not openid.serving.is_set()
            assert not message.done()  # the admin's message waits for the keys, asynchronously

            openid.serving.set()
            response = await message
            await admin.close()
    finally:
        valve.cancel()
        openid.serving.set()
    assert status == 200 and answered_while_blocked
    assert response.status in (200, 201) and len(connector.records) == 1  # served once the keys came


async def test_unknown_key_ids_refresh_in_the_background_at_most_every_five_minutes():
    from bot.hosting.openid_keys import OpenIdKeys, SigningKey

    now = [1000.0]
    fetched: list[str] = []

    def fetch(url: str) -> dict[str, SigningKey]:
        fetched.append(url)
        return {"known": SigningKey("public-key", ["msteams"])}

    keys = OpenIdKeys("https://login.example/openid", fetch=fetch, clock=lambda: now[0])
    assert (await keys.get("known")).public_key == "public-key"  # the first request waits for the warm-up
    assert len(fetched) == 1
    for _ in range(50):  # a stranger's made-up key ids
        assert await keys.get("made-up") is None
    await keys.settled()
    assert len(fetched) == 1  # not due yet: no fetch at all
    now[0] += 301
    assert await keys.get("made-up") is None
    await keys.settled()
    assert len(fetched) == 2  # one background refresh, then quiet again
    assert await keys.get("made-up") is None and len(fetched) == 2


async def test_the_emulators_keys_are_never_fetched(settings, openid):
    from botframework.connector.auth import AuthenticationConstants
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    async with RunningBot(secured(settings, openid), credentials_factory=LoopbackCredentials()):
        emulator = JwtTokenExtractor.metadataCache[AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL]
        assert await emulator.get("any") is None
