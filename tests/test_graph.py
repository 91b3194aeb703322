"""Microsoft Graph detection, against a token endpoint and a Graph endpoint served on loopback over
HTTPS with a certificate made here, speaking the real wire formats; msal pointed at them."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from dataclasses import replace

import pytest
import pytest_asyncio
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bot.integrations.graph import GraphClient, GraphSettings, GraphUnavailable, RoleCheck
from tests.conftest import RunningBot
from tests.harness import Admin, cards_of, joined

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
UPN = "jane.doe@contoso.com"
JANE_ID = "8f3c2a1b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
ADMIN_ID = "11111111-2222-4333-8444-555555555555"
EXCHANGE_ADMIN = "29232cdf-9323-42fd-ade2-1d097af3e4de"


def make_tls(tmp_path):
    """A CA and a server certificate for 127.0.0.1, made for this test run."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return str(ca_path), context


class FakeMicrosoft:
    """Entra ID's token endpoint and the bits of Graph the bot reads."""

    def __init__(self) -> None:
        self.user_mode = "present"  # present | deleted | gone | forbidden | slow
        self.roles: list[str] = [EXCHANGE_ADMIN]
        self.groups: set[str] = set()
        self.token_requests = 0
        self.role_requests = 0
        self.consistency_headers: list[str] = []
        self.authorizations: list[str] = []  # what Graph was shown, call by call
        self.base = ""

    def error(self, status: int, code: str, message: str) -> web.Response:
        return web.json_response(
            {"error": {"code": code, "message": message, "innerError": {"request-id": "r", "date": "2026-11-25T17:00:00"}}},
            status=status,
        )

    async def openid(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        return web.json_response(
            {
                "token_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/token",
                "authorization_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/authorize",
                "issuer": f"{self.base}/{tenant}/v2.0",
            }
        )

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        assert form["grant_type"] == "client_credentials" and form["scope"] == "https://graph.microsoft.com/.default"
        self.token_requests += 1
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.eyJyb2xlcyI6W119.",
            }
        )

    async def user(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"].startswith("Bearer ")
        self.authorizations.append(request.headers["Authorization"])
        mode = self.user_mode
        if mode == "forbidden":
            return self.error(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
        if mode == "slow":
            await asyncio.sleep(3)
        if mode == "present":
            return web.json_response(
                {
                    "@odata.context": f"{self.base}/v1.0/$metadata#users(id,userPrincipalName)/$entity",
                    "id": JANE_ID,
                    "userPrincipalName": UPN,
                    "onPremisesSyncEnabled": True,
                    "assignedLicenses": [{"disabledPlans": [], "skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}],
                }
            )
        return self.error(404, "Request_ResourceNotFound", f"Resource '{request.match_info['user']}' does not exist.")

    async def deleted(self, request: web.Request) -> web.Response:
        self.consistency_headers.append(request.headers.get("ConsistencyLevel", ""))
        assert "endswith(userPrincipalName,'jane.doe@contoso.com')" in request.query["$filter"]
        if self.user_mode == "another_deleted":  # mary.jane.doe@ ends like jane.doe@: the filter returns her
            mary = {
                "id": "0000bbbb-0000-4000-8000-000000000002",
                "userPrincipalName": f"0000bbbb000040008000000000000002mary.{UPN}",
                "onPremisesSyncEnabled": True,
                "deletedDateTime": "2026-11-20T08:00:00Z",
                "assignedLicenses": [],
            }
            return web.json_response({"@odata.count": 1, "value": [mary]})
        if self.user_mode != "deleted":
            return web.json_response({"@odata.count": 0, "value": []})
        if "$skiptoken" not in request.query:
            other = {
                "id": "0000aaaa-0000-4000-8000-000000000001",
                "userPrincipalName": "0000aaaa00004000jane.doe@contoso.community",
                "onPremisesSyncEnabled": None,
                "deletedDateTime": "2026-11-01T08:00:00Z",
                "assignedLicenses": [],
            }
            return web.json_response({"@odata.count": 2, "value": [other], "@odata.nextLink": f"{request.url}&$skiptoken=page2"})
        deleted_at = (dt.datetime.now(dt.UTC) - dt.timedelta(days=4, hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        jane = {
            "id": JANE_ID,
            "userPrincipalName": f"{JANE_ID.replace('-', '')}{UPN}",
            "onPremisesSyncEnabled": True,
            "deletedDateTime": deleted_at,
            "assignedLicenses": [{"skuId": "6fd2c87f-b296-42f0-b197-1e91e994b900"}],
        }
        return web.json_response({"value": [jane]})

    async def check_member_groups(self, request: web.Request) -> web.Response:
        asked = (await request.json())["groupIds"]
        return web.json_response({"value": [group for group in asked if group in self.groups]})

    async def roles_of(self, request: web.Request) -> web.Response:
        self.role_requests += 1
        value = [
            {
                "@odata.type": "#microsoft.graph.directoryRole",
                "id": f"role-{i}",
                "roleTemplateId": template,
                "displayName": "Exchange Administrator",
            }
            for i, template in enumerate(self.roles)
        ]
        return web.json_response({"value": value})


@pytest_asyncio.fixture
async def microsoft(tmp_path):
    ca_bundle, context = make_tls(tmp_path)
    fake = FakeMicrosoft()
    app = web.Application()
    app.router.add_post("/v1.0/users/{id}/checkMemberGroups", fake.check_member_groups)
    app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", fake.openid)
    app.router.add_post("/{tenant}/oauth2/v2.0/token", fake.token)
    app.router.add_get("/v1.0/directory/deletedItems/microsoft.graph.user", fake.deleted)
    app.router.add_get("/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.directoryRole", fake.roles_of)
    app.router.add_get("/v1.0/users/{user}", fake.user)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    fake.base = f"https://127.0.0.1:{port}"
    fake.settings = GraphSettings(
        TENANT,
        "bot-graph-app",
        "graph-secret",
        authority_host=fake.base,
        endpoint=fake.base,
        ca_bundle=ca_bundle,
        timeout_seconds=1.0,
    )
    yield fake
    await runner.cleanup()


@pytest_asyncio.fixture
async def graph(microsoft):
    client = GraphClient(microsoft.settings)
    yield client
    await client.close()


async def test_present_synced_user(graph, microsoft):
    finding = await graph.entra_state(UPN)
    assert (finding.state, finding.object_id, finding.synced, finding.licensed) == ("present", JANE_ID, True, True)


async def test_soft_deleted_user_found_across_pages_with_days_left(graph, microsoft):
    microsoft.user_mode = "deleted"
    finding = await graph.entra_state(UPN)
    assert finding.state == "soft_deleted" and finding.object_id == JANE_ID
    assert finding.days_left == 26
    assert microsoft.consistency_headers == ["eventual", "eventual"]  # two pages, both with the header


async def test_another_deleted_user_whose_upn_ends_the_same_is_not_taken_for_this_one(graph, microsoft):
    microsoft.user_mode = "another_deleted"
    assert (await graph.entra_state(UPN)).state == "not_found"


async def test_not_found_anywhere(graph, microsoft):
    microsoft.user_mode = "gone"
    assert (await graph.entra_state(UPN)).state == "not_found"


async def test_forbidden_and_slow_say_why(graph, microsoft):
    microsoft.user_mode = "forbidden"
    with pytest.raises(GraphUnavailable, match=r"lacks the User\.Read\.All application permission"):
        await graph.entra_state(UPN)
    microsoft.user_mode = "slow"
    with pytest.raises(GraphUnavailable, match="did not answer in time"):
        await graph.entra_state(UPN)


async def test_the_token_is_reused_across_calls(graph, microsoft):
    for _ in range(3):
        await graph.entra_state(UPN)
    assert microsoft.token_requests == 1


async def test_role_check_allows_admins_and_refuses_others(graph, microsoft):
    check = RoleCheck(graph)
    assert await check.allowed(ADMIN_ID) == (True, "")
    microsoft.roles = ["f2ef992c-3afb-46b9-b7cf-a126ee74c451"]  # Global Reader: not enough
    allowed, why = await RoleCheck(graph).allowed(ADMIN_ID)
    assert not allowed and "Exchange Administrators" in why


def with_graph(settings, microsoft, **changes):
    """The bot's settings with Graph pointed at the loopback stand-in."""
    return replace(
        settings,
        graph_client_id="bot-graph-app",
        graph_client_secret="graph-secret",
        graph_tenant_id=TENANT,
        graph_authority_host=microsoft.base,
        graph_endpoint=microsoft.base,
        graph_ca_bundle=microsoft.settings.ca_bundle,
        graph_timeout_seconds=1.0,
        **changes,
    )


@pytest_asyncio.fixture
async def graph_bot(settings, microsoft):
    async with RunningBot(with_graph(settings, microsoft, graph_require_admin_role=True)) as running:
        yield running


async def test_the_admin_only_confirms_what_graph_found(graph_bot, connector, microsoft):
    microsoft.user_mode = "deleted"
    admin = Admin(graph_bot.url, connector, aad_object_id=ADMIN_ID)
    await admin.say("start")
    records = await admin.say(UPN)
    text = joined(records)
    assert "the Entra account is soft-deleted" in text and "26 days left in the recycle bin" in text
    onprem = cards_of(records)[-1]
    assert "synchronized from on-premises AD" in joined(records) and onprem["actions"][0]["title"] == "Deleted"
    records = await admin.press("Present (synced)")
    entra = cards_of(records)[-1]
    assert entra["actions"][0]["title"] == "Confirm: Soft-deleted"
    assert "From Microsoft Graph, checked" in joined(records)
    await admin.press("Confirm: Soft-deleted")
    status = joined(await admin.say("status"))
    assert "Entra ID (Azure AD) account: Soft-deleted (confirmed from Microsoft Graph)" in status
    await admin.close()


async def test_graph_failure_falls_back_to_asking_and_recheck_tries_again(graph_bot, connector, microsoft):
    microsoft.user_mode = "forbidden"
    admin = Admin(graph_bot.url, connector, aad_object_id=ADMIN_ID)
    await admin.say("start")
    records = await admin.say(UPN)
    assert "I could not check Microsoft Graph: the app lacks the User.Read.All application permission" in joined(records)
    assert all(not a["title"].startswith("Confirm") for a in cards_of(records)[-1]["actions"])
    microsoft.user_mode = "present"
    records = await admin.say("recheck")
    assert "the Entra account is present" in joined(records)
    assert "It has licenses." in joined(records)
    await admin.close()


async def test_an_admins_role_is_checked_once_not_on_every_turn(graph_bot, connector, microsoft):
    admin = Admin(graph_bot.url, connector, aad_object_id=ADMIN_ID)
    await admin.say("help")
    await admin.say("cases")
    await admin.say("help")
    assert microsoft.role_requests == 1  # kept for ten minutes: Graph is asked once, not per turn
    await admin.close()


async def test_users_without_an_admin_role_are_told_why(graph_bot, connector, microsoft):
    microsoft.roles = []
    outsider = Admin(graph_bot.url, connector)
    records = await outsider.say("start")
    assert "Microsoft Graph shows you hold none of these roles" in joined(records)
    await outsider.close()


async def test_group_allow_list_checks_nested_membership(graph, microsoft):
    group = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    microsoft.groups = {group}
    assert await RoleCheck(graph, require_role=False, group_id=group).allowed(ADMIN_ID) == (True, "")
    microsoft.groups = set()
    allowed, why = await RoleCheck(graph, require_role=False, group_id=group).allowed(ADMIN_ID)
    assert not allowed and "not in the group allowed to use it" in why
