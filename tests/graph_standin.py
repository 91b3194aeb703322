"""The Graph stand-in: Entra ID's token endpoint and the bits of Microsoft Graph the bot reads,
served on loopback over HTTPS with a certificate made here (make_tls), speaking the real wire
formats. The `microsoft` fixture (tests/conftest.py) serves a FakeMicrosoft; with_graph points the
bot's settings at it."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from dataclasses import replace

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

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
