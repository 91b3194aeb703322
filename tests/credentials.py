"""Bot Framework sign-in on loopback: the OpenID metadata and signing keys the SDK fetches
(OpenIdServer), the channel tokens Teams' connector sends (token), outbound credentials for the
loopback connector (LoopbackCredentials), and the bot's settings with authentication on (secured)."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from botframework.connector.auth import ServiceClientCredentialsFactory
from msrest.authentication import BasicTokenAuthentication

from bot.settings import Settings

APP_ID = "0b3f4c5d-1111-4e2f-9a8b-123456789abc"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KID = "loopback-key"


def b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class OpenIdServer:
    """The Bot Framework's OpenID metadata and signing keys, served on loopback from a thread
    (the SDK fetches them with blocking `requests`)."""

    def __init__(self, key) -> None:
        numbers = key.public_key().public_numbers()
        self.jwks = {
            "keys": [
                {"kty": "RSA", "use": "sig", "kid": KID, "n": b64(numbers.n), "e": b64(numbers.e), "endorsements": ["msteams"]}
            ]
        }
        self.serving = threading.Event()  # clear it to make every fetch wait until it is set again
        self.serving.set()
        self.fetches = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.fetches += 1
                server.serving.wait()
                body = {
                    "/openid": {"issuer": "https://api.botframework.com", "jwks_uri": f"{server.url}/keys"},
                    "/keys": server.jwks,
                }.get(self.path)
                payload = json.dumps(body).encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                return None

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.serving.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class LoopbackCredentials(ServiceClientCredentialsFactory):
    """Outbound tokens for the loopback connector: Entra ID cannot be reached from here."""

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return BasicTokenAuthentication({"access_token": "loopback-outbound-token"})


def secured(settings: Settings, openid: OpenIdServer, **changes) -> Settings:
    """The settings with authentication on against the loopback OpenID server."""
    return replace(
        settings,
        app_id=APP_ID,
        app_password="not-used",
        app_type="SingleTenant",
        app_tenant_id=TENANT,
        openid_metadata_url=f"{openid.url}/openid",
        service_url_hosts=("127.0.0.1",),  # the loopback connector, listed explicitly (auth on)
        **changes,
    )


def token(key, service_url: str, kid: str = KID, **overrides) -> str:
    """A Bot Framework channel token as Teams' connector sends it."""
    now = int(time.time())
    claims = {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "exp": now + 3600,
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
