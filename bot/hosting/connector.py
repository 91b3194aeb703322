"""The outbound path to the Bot Connector, made cheap.

Profiling the stock SDK on a 2-core machine: most of a turn's CPU went to msrest building a
ClientRetryPolicy (a 999-code list comprehension) for a new ConnectorClient and a new
TokenApiClient on every turn, then to msrest serialising each reply's card field by field, and
every reply opened a new TCP connection from a worker thread. Here:

- `PooledBotFrameworkAuthentication` wraps the SDK's authentication and hands out one connector
  client per (app id, service URL, audience) and one user token client per app id, kept;
- `ConnectorSender` posts activities as JSON with one shared aiohttp session (keep-alive, no
  threads), the Authorization header from the same credentials the SDK would use, cached.

Inbound token validation and the turn pipeline stay the SDK's; on top of it, with authentication
on, the token must be a Bot Framework channel token for this very serviceUrl from msteams, and
no call leaves for a serviceUrl outside the allow-list (bot.service_urls).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from datetime import date, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.schema import ResourceResponse
from botframework.connector.auth import BotFrameworkAuthentication, ClaimsIdentity, ConnectorFactory
from msrest.serialization import Model

from bot.frozen_json import FrozenJson
from bot.service_urls import ServiceUrlPolicy

# The Bot Connector's own issuers (public cloud, US government). The emulator's issuers are not
# here: an emulator token carries no serviceurl claim, so it could point the bot anywhere.
CHANNEL_ISSUERS = frozenset({"https://api.botframework.com", "https://api.botframework.us"})

MAX_CLIENTS = 64
HEADER_SECONDS = 300.0  # tokens live an hour; the credentials' own cache refreshes them
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


class ConnectorError(Exception):
    """The connector answered with an error status (429 and 5xx are retried by bot.retry)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"connector answered {status}: {body[:200]}")
        self.status = status


def to_wire(value: Any) -> Any:
    """An msrest model as the JSON the connector expects, by its attribute map. Dicts (card
    content, channel data) are already JSON and pass through untouched."""
    if isinstance(value, Model):
        wire: dict[str, Any] = {}
        for name, spec in value._attribute_map.items():
            item = getattr(value, name, None)
            if item is None:
                continue
            target = wire
            *parents, key = spec["key"].replace("\\.", "\0").split(".")
            for parent in parents:
                target = target.setdefault(parent.replace("\0", "."), {})
            target[key.replace("\0", ".")] = to_wire(item)
        for name, item in (value.additional_properties or {}).items() if hasattr(value, "additional_properties") else ():
            wire.setdefault(name, to_wire(item))
        return wire
    if isinstance(value, FrozenJson):
        return value  # JSON already (the cards), built once and never changed
    if isinstance(value, list):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


class ConnectorSender:
    def __init__(self, policy: ServiceUrlPolicy) -> None:
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None
        self._headers: dict[int, tuple[float, str]] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT, connector=aiohttp.TCPConnector(limit=200))
        return self._session

    async def authorization(self, credentials: Any) -> str:
        """'Bearer ...' from the SDK's credentials, or '' with authentication off."""
        if credentials is None:
            return ""
        cached = self._headers.get(id(credentials))
        if cached and time.monotonic() - cached[0] < HEADER_SECONDS:
            return cached[1]
        # signed_session may fetch a token (blocking msal): keep it off the event loop.
        session = await asyncio.get_running_loop().run_in_executor(None, credentials.signed_session)
        header = session.headers.get("Authorization", "")
        self._headers[id(credentials)] = (time.monotonic(), header)
        return header

    async def _call(self, method: str, url: str, body: dict, authorization: str) -> ResourceResponse:
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        async with self._client().request(method, url, json=body, headers=headers) as response:
            text = await response.text()
            if response.status >= 400:
                raise ConnectorError(response.status, text)
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = {}
        return ResourceResponse(id=data.get("id")) if isinstance(data, dict) and data.get("id") else ResourceResponse()

    @staticmethod
    def _conversation_url(service_url: str, conversation_id: str) -> str:
        return f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"

    async def send(self, activity, credentials: Any) -> ResourceResponse:
        self.policy.require(activity.service_url)  # before the token leaves the process
        url = self._conversation_url(activity.service_url, activity.conversation.id)
        if activity.reply_to_id:
            url += "/" + quote(activity.reply_to_id, safe="")
        return await self._call("POST", url, to_wire(activity), await self.authorization(credentials))

    async def update(self, activity, credentials: Any) -> ResourceResponse:
        self.policy.require(activity.service_url)
        url = f"{self._conversation_url(activity.service_url, activity.conversation.id)}/{quote(activity.id, safe='')}"
        return await self._call("PUT", url, to_wire(activity), await self.authorization(credentials))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class _PooledConnectorFactory(ConnectorFactory):
    """Every SDK connector client (create_conversation, continue_conversation, member look-ups)
    comes from here, so its service URL is checked here."""

    def __init__(self, inner: ConnectorFactory, pool: OrderedDict, app_id: str, policy: ServiceUrlPolicy) -> None:
        self._inner = inner
        self._pool = pool
        self._app_id = app_id
        self._policy = policy

    async def create(self, service_url: str, audience: str | None = None):
        self._policy.require(service_url)
        key = (self._app_id, service_url, audience)
        client = self._pool.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._pool[key] = client
            while len(self._pool) > MAX_CLIENTS:
                self._pool.popitem(last=False)
        else:
            self._pool.move_to_end(key)
        return client


def _app_id(claims_identity: ClaimsIdentity | None) -> str:
    claims = claims_identity.claims if claims_identity else {}
    return str(claims.get("aud") or claims.get("appid") or claims.get("azp") or "")


def check_channel_claims(claims_identity: ClaimsIdentity | None, channel_id: str | None, service_url: str | None) -> None:
    """After the SDK has validated the token: it must be the Bot Connector's, for Teams, issued
    for the serviceUrl the activity names. Raises PermissionError otherwise."""
    claims = claims_identity.claims if claims_identity else {}
    if channel_id != "msteams":
        raise PermissionError("only the msteams channel is served")
    if claims.get("iss") not in CHANNEL_ISSUERS:
        raise PermissionError("the token is not a Bot Connector channel token")
    if not service_url or claims.get("serviceurl") != service_url:
        raise PermissionError("the token's serviceurl claim does not match the activity's serviceUrl")


class PooledBotFrameworkAuthentication(BotFrameworkAuthentication):
    def __init__(self, inner: BotFrameworkAuthentication, policy: ServiceUrlPolicy, auth_enabled: bool) -> None:
        self._inner = inner
        self._policy = policy
        self._auth_enabled = auth_enabled
        self._connectors: OrderedDict = OrderedDict()
        self._token_clients: dict[str, Any] = {}

    async def authenticate_request(self, activity, auth_header: str):
        result = await self._inner.authenticate_request(activity, auth_header)
        if self._auth_enabled:
            check_channel_claims(result.claims_identity, activity.channel_id, activity.service_url)
        if not self._policy.allows(activity.service_url):
            raise PermissionError("the activity's serviceUrl is not on SERVICE_URL_HOSTS")
        if result.connector_factory is not None:
            result.connector_factory = _PooledConnectorFactory(
                result.connector_factory, self._connectors, _app_id(result.claims_identity), self._policy
            )
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _PooledConnectorFactory(
            self._inner.create_connector_factory(claims_identity), self._connectors, _app_id(claims_identity), self._policy
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity):
        key = _app_id(claims_identity)
        if key not in self._token_clients:
            self._token_clients[key] = await self._inner.create_user_token_client(claims_identity)
        return self._token_clients[key]

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str):
        return await self._inner.authenticate_channel_request(auth_header)
