"""No secrets: Graph tokens from the App Service managed identity endpoint (a loopback stand-in
that msal finds through IDENTITY_ENDPOINT / IDENTITY_HEADER, as on App Service), and start-up
refusing a secret mixed with a managed identity for the same service."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import pytest_asyncio
from aiohttp import web

from app import StartupRefused, build
from bot.integrations.graph import GraphClient
from tests.conftest import RunningBot
from tests.entra import entra_token
from tests.graph_standin import ADMIN_ID, UPN
from tests.harness import Admin, cards_of, joined

IDENTITY_HEADER = "f5b3c9a2-identity-header"
MI_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJvaWQiOiJtaSJ9."
USER_ASSIGNED = "6e5d4c3b-2a19-4807-b6a5-948372615049"
STORAGE = "https://storage.azure.com"


class AppServiceIdentity:
    """The App Service identity endpoint (api-version 2019-08-01), as msal calls it."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def token(self, request: web.Request) -> web.Response:
        if request.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER:
            return web.json_response({"statusCode": 401, "message": "Unauthorized"}, status=401)
        self.requests.append(dict(request.query))
        resource = request.query["resource"]
        return web.json_response(
            {
                # Storage checks the token (Azurite: issuer, audience, lifetime); the Graph stand-in does not.
                "access_token": entra_token(resource)[0] if resource == STORAGE else MI_TOKEN,
                "expires_on": str(int(time.time()) + 3600),
                "resource": request.query["resource"],
                "token_type": "Bearer",
                "client_id": request.query.get("client_id", "system-assigned"),
            }
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/msi/token", self.token)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/msi/token"

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()


@pytest_asyncio.fixture
async def identity(monkeypatch):
    endpoint = AppServiceIdentity()
    await endpoint.start()
    monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    yield endpoint
    await endpoint.stop()


@pytest.fixture
def mi_settings(settings, microsoft):
    return replace(
        settings,
        graph_use_managed_identity=True,
        graph_endpoint=microsoft.base,
        graph_ca_bundle=microsoft.settings.ca_bundle,
        graph_timeout_seconds=1.0,
    )


async def test_graph_signs_in_with_the_app_service_identity_and_the_admin_confirms(
    identity,
    mi_settings,
    connector,
    microsoft,
):
    async with RunningBot(mi_settings) as bot:
        admin = Admin(bot.url, connector, aad_object_id=ADMIN_ID)
        await admin.say("start")
        records = await admin.say(UPN)
        assert "the Entra account is present" in joined(records)
        await admin.say("recheck")
        await admin.close()
    assert microsoft.authorizations == [f"Bearer {MI_TOKEN}"] * 2
    assert microsoft.token_requests == 0  # no client-credentials sign-in: there is no secret
    assert [r["resource"] for r in identity.requests] == ["https://graph.microsoft.com"]  # then from msal's cache
    assert "client_id" not in identity.requests[0]  # the system-assigned identity


async def test_a_user_assigned_identity_is_asked_for_by_its_client_id(identity, mi_settings, microsoft):
    client = GraphClient(replace(mi_settings, azure_client_id=USER_ASSIGNED).graph)
    try:
        assert (await client.entra_state(UPN)).state == "present"
    finally:
        await client.close()
    assert identity.requests[0]["client_id"] == USER_ASSIGNED


async def test_identity_endpoint_down_the_bot_says_graph_is_unavailable_and_asks(
    identity,
    mi_settings,
    connector,
    microsoft,
):
    await identity.stop()
    async with RunningBot(mi_settings) as bot:
        admin = Admin(bot.url, connector, aad_object_id=ADMIN_ID)
        await admin.say("start")
        records = await admin.say(UPN)
        await admin.close()
    text = joined(records)
    assert "I could not check Microsoft Graph: the bot could not reach its managed identity endpoint" in text
    assert "Please answer the questions yourself" in text
    assert all(not a["title"].startswith("Confirm") for a in cards_of(records)[-1]["actions"])
    assert microsoft.authorizations == []


@pytest.mark.parametrize(
    "changes, names",
    [
        (
            {
                "state_store": "blob",
                "blob_connection_string": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=k",
                "blob_account_url": "https://a.blob.core.windows.net",
            },
            ("BLOB_CONNECTION_STRING", "BLOB_ACCOUNT_URL"),
        ),
        (
            {"graph_use_managed_identity": True, "graph_client_secret": "s3cret"},
            ("GRAPH_USE_MANAGED_IDENTITY", "GRAPH_CLIENT_SECRET"),
        ),
        (
            {"graph_use_managed_identity": True, "graph_certificate_path": "/x.pem"},
            ("GRAPH_USE_MANAGED_IDENTITY", "GRAPH_CERTIFICATE_PATH"),
        ),
        (
            {"app_id": "0b3f4c5d-1111-4e2f-9a8b-123456789abc", "app_type": "UserAssignedMSI", "app_password": "s3cret"},
            ("MicrosoftAppType=UserAssignedMSI", "MicrosoftAppPassword"),
        ),
    ],
)
def test_start_up_refuses_a_secret_mixed_with_a_managed_identity(settings, changes, names):
    with pytest.raises(StartupRefused) as refused:
        build(replace(settings, **changes))
    assert all(name in str(refused.value) for name in names)
    assert "s3cret" not in str(refused.value) and "AccountKey" not in str(refused.value)


async def test_blob_state_with_the_app_service_identity_keeps_the_case_across_restarts(
    identity,
    settings,
    connector,
    azurite_oauth,
):
    blob = replace(
        settings,
        state_store="blob",
        blob_account_url=azurite_oauth.account_url,
        blob_container=f"mi{time.time_ns()}",
        azure_client_id=USER_ASSIGNED,
        blob_ca_bundle=azurite_oauth.ca_bundle,  # the certificate Azurite was given
    )
    async with RunningBot(blob) as bot:
        admin = Admin(bot.url, connector)
        await admin.say("start")
        await admin.press("Next", upn=UPN)
        await admin.close()
    async with RunningBot(blob) as bot:
        again = Admin(bot.url, connector, aad_object_id=admin.aad_object_id, conversation_id=admin.conversation_id)
        assert UPN in joined(await again.say("status"))
        await again.close()
    asked = {(r["resource"], r.get("client_id")) for r in identity.requests}
    assert asked == {(STORAGE, USER_ASSIGNED)}
