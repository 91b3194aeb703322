"""Who may use the bot: real JWT validation against OpenID metadata and keys served on loopback,
the tenant and admin allow-lists, the per-user rate limit, and the refusal to start open."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.storage import SqliteDocumentStore
from bot.turn.access import AccessGate
from tests.conftest import ROOT, RunningBot
from tests.credentials import APP_ID, TENANT, LoopbackCredentials, OpenIdServer, secured, token
from tests.harness import Admin, texts_of


@pytest.fixture(scope="module")
def signing_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def openid(signing_key):
    server = OpenIdServer(signing_key)
    yield server
    server.close()


@pytest_asyncio.fixture
async def secured_bot(settings, openid):
    async with RunningBot(secured(settings, openid), credentials_factory=LoopbackCredentials()) as running:
        yield running


async def test_good_tokens_pass_and_every_bad_kind_gets_401(secured_bot, connector, signing_key):
    admin = Admin(secured_bot.url, connector, tenant_id=TENANT)
    body = admin.activity(text="hello")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "missing": None,
        "malformed": "Bearer not-a-jwt",
        "expired": token(signing_key, connector.url, exp=int(time.time()) - 600, nbf=int(time.time()) - 7200),
        "wrongly signed": token(other_key, connector.url),
        "wrong audience": token(signing_key, connector.url, aud="someone-else"),
        "wrong issuer": token(signing_key, connector.url, iss="https://evil.example"),
        "unknown key": token(signing_key, connector.url, kid="who-knows"),
    }
    for kind, value in bad.items():
        headers = {"Authorization": value if value.startswith("Bearer") else f"Bearer {value}"} if value else {}
        response = await admin.post(body, headers=headers)
        assert response.status == 401, kind
    assert connector.records == []

    response = await admin.post(body, headers={"Authorization": f"Bearer {token(signing_key, connector.url)}"})
    assert response.status in (200, 201)
    reply = connector.records[-1]
    assert "Start a recovery" in "\n".join(texts_of([reply]))
    assert reply.authorization == "Bearer loopback-outbound-token"
    await admin.close()


async def test_other_tenants_are_refused_politely_and_leave_nothing_behind(secured_bot, connector, signing_key, caplog):
    stranger = Admin(secured_bot.url, connector, tenant_id="11111111-2222-4333-8444-555555555555")
    caplog.set_level("INFO")
    headers = {"Authorization": f"Bearer {token(signing_key, connector.url)}"}
    await stranger.post(stranger.activity(text="start"), headers=headers)
    assert "only its own organisation's tenant" in "\n".join(texts_of(connector.sent_to(stranger.conversation_id)))
    store = SqliteDocumentStore(secured_bot.settings.sqlite_path)
    keys = [f"state/msteams/conversations/{stranger.conversation_id}", f"state/msteams/users/{stranger.user_id}"]
    assert await store.read(keys) == {}
    await store.close()
    bot_log = "\n".join(r.getMessage() for r in caplog.records if r.name.split(".")[0] in ("bot", "dialogs", "botbuilder"))
    assert "turn refused: foreign tenant" in bot_log
    assert stranger.conversation_id not in bot_log and stranger.user_id not in bot_log
    await stranger.close()


def test_admin_allow_list_and_rate_limit():
    gate = AccessGate(allowed_tenants=(TENANT,), allowed_admins=("AAAA-admin",), turns_per_minute=60, burst=3)
    assert gate.check(TENANT, "u1", "aaaa-admin", now=0) is None
    assert gate.check(TENANT, "u2", "someone-else", now=0) == "not-admin"
    assert gate.check("other", "u1", "aaaa-admin", now=0) == "foreign-tenant"
    assert [gate.check(TENANT, "u1", "aaaa-admin", now=0) for _ in range(3)] == [None, None, "rate-limited"]
    assert gate.check(TENANT, "u1", "aaaa-admin", now=1.1) is None  # a token a second comes back


async def test_not_allowed_admins_are_told_who_the_bot_is_for(settings, connector):
    running = RunningBot(replace(settings, allowed_admins=("00000000-0000-4000-8000-00000000ad01",)))
    await running.start()
    outsider = Admin(running.url, connector)
    try:
        records = await outsider.say("start")
        assert "for the tenant's Exchange administrators" in "\n".join(texts_of(records))
    finally:
        await outsider.close()
        await running.stop()


async def test_rate_limited_admin_gets_a_friendly_message_and_the_bot_keeps_serving(settings, connector):
    running = RunningBot(replace(settings, turns_per_minute=6))
    await running.start()
    hasty, calm = Admin(running.url, connector), Admin(running.url, connector)
    try:
        replies = [await hasty.say("status") for _ in range(25)]
        assert any("faster than I can help" in "\n".join(texts_of(r)) for r in replies)
        assert "Start a recovery" in "\n".join(texts_of(await calm.say("hello")))
    finally:
        await hasty.close()
        await calm.close()
        await running.stop()


def test_refuses_to_listen_openly_without_authentication(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOST": "0.0.0.0", "PORT": "0", "SQLITE_PATH": str(tmp_path / "s.sqlite3")}
    refused = subprocess.run([sys.executable, str(ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "Refusing to listen on 0.0.0.0 with authentication off" in refused.stderr


def test_settings_default_to_the_registrations_own_tenant():
    from bot.settings import Settings

    env = {"MicrosoftAppId": APP_ID, "MicrosoftAppTenantId": TENANT}
    assert Settings.from_env(env).tenants_allowed == (TENANT,)
    assert Settings.from_env({**env, "MicrosoftAppType": "UserAssignedMSI"}).tenants_allowed == (TENANT,)
    assert Settings.from_env({**env, "ALLOWED_TENANTS": "a, b"}).tenants_allowed == ("a", "b")
    assert Settings.from_env({}).tenants_allowed == ()  # local use: no registration, no tenant list
    assert "secret" not in repr(Settings.from_env({**env, "MicrosoftAppPassword": "secret"}))
