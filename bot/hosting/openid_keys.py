"""The Bot Framework's token signing keys, fetched off the event loop.

The SDK (botframework.connector.auth.jwt_token_extractor) keeps each OpenID metadata URL's keys
in `JwtTokenExtractor.metadataCache` and refreshes them with a blocking `requests.get` on the
event loop when a day old or when a token names an unknown key: every other request, /healthz
included, waits behind it. Here the cache entries are replaced by `OpenIdKeys`, which fetches in
a worker thread, is warmed at start-up and refreshed every few hours in the background; a token
with an unknown key id starts a background refresh (at most every few minutes) and is refused.

The emulator's metadata URLs get keys that are never fetched: an emulator token carries no
serviceurl claim, and the bot refuses it after the SDK anyway (bot.hosting.connector).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from botframework.connector.auth import AuthenticationConstants, GovernmentConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

REFRESH_SECONDS = 6 * 3600.0  # the SDK's own cache would refresh after a day, on the loop
RETRY_SECONDS = 30.0  # after a failed fetch
UNKNOWN_KEY_REFRESH_SECONDS = 300.0  # Microsoft rolls keys; a stranger's made-up kid must not cause a fetch storm
FIRST_FETCH_WAIT_SECONDS = 20.0  # a request that arrives before the warm-up finished waits this long, asynchronously
FETCH_TIMEOUT = (5, 20)  # requests' (connect, read) seconds


@dataclass(frozen=True)
class SigningKey:
    """What the SDK's token extractor reads from a metadata entry."""

    public_key: Any
    endorsements: list[str] = field(default_factory=list)


def fetch_keys(metadata_url: str) -> dict[str, SigningKey]:
    """Blocking: the metadata document, then its jwks_uri; run in a worker thread."""
    metadata = requests.get(metadata_url, timeout=FETCH_TIMEOUT)
    metadata.raise_for_status()
    jwks = requests.get(metadata.json()["jwks_uri"], timeout=FETCH_TIMEOUT)
    jwks.raise_for_status()
    return {
        key["kid"]: SigningKey(RSAAlgorithm.from_jwk(json.dumps(key)), list(key.get("endorsements", [])))
        for key in jwks.json()["keys"]
        if key.get("kid") and key.get("kty") == "RSA"
    }


class OpenIdKeys:
    def __init__(
        self,
        url: str,
        fetch: Callable[[str], dict[str, SigningKey]] = fetch_keys,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched = False
        self._last_attempt = float("-inf")
        self._refreshing: asyncio.Future | None = None

    async def get(self, key_id: str | None) -> SigningKey | None:
        """The SDK's call, on the event loop: never a blocking fetch."""
        if not self._fetched:
            if self._refreshing is not None and self._refreshing.done() and not self._due(RETRY_SECONDS):
                return None  # the last fetch failed just now: no fetch per request while the endpoint is down
            try:
                await asyncio.wait_for(asyncio.shield(self.refresh()), FIRST_FETCH_WAIT_SECONDS)
            except TimeoutError:
                return None
        key = self._keys.get(key_id or "")
        if key is None and self._due(UNKNOWN_KEY_REFRESH_SECONDS):
            self.refresh()  # in the background; this token is refused, the sender retries
        return key

    def _due(self, seconds: float) -> bool:
        return self._clock() - self._last_attempt > seconds

    def refresh(self) -> asyncio.Future:
        """One fetch in a worker thread at a time; the future is True when it succeeded."""
        if self._refreshing is None or self._refreshing.done():
            self._last_attempt = self._clock()
            self._refreshing = asyncio.ensure_future(self._refresh())
        return self._refreshing

    async def settled(self) -> None:
        """Wait for a refresh in flight, if any (tests, shutdown)."""
        if self._refreshing is not None:
            await self._refreshing

    async def _refresh(self) -> bool:
        try:
            keys = await asyncio.get_running_loop().run_in_executor(None, self._fetch, self.url)
        except Exception as exc:  # noqa: BLE001 - network, HTTP or document shape: keep the keys we have
            log.warning("could not fetch Bot Framework signing keys from %s: %s", self.url, type(exc).__name__)
            return False
        self._keys, self._fetched = keys, True
        return True

    async def keep_fresh(self) -> None:
        """Warm now, then refresh every REFRESH_SECONDS (every RETRY_SECONDS while failing)."""
        while True:
            succeeded = await self.refresh()
            await asyncio.sleep(REFRESH_SECONDS if succeeded else RETRY_SECONDS)


class RefusedKeys:
    """Metadata that is never fetched: every token it would vouch for is refused."""

    async def get(self, key_id: str | None) -> None:
        return None


def install(channel_metadata_url: str) -> OpenIdKeys:
    """Put non-blocking keys in the SDK's cache for the channel URL, refused ones for the emulator's."""
    keys = OpenIdKeys(channel_metadata_url)
    JwtTokenExtractor.metadataCache[channel_metadata_url] = keys
    for emulator_url in (
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    ):
        JwtTokenExtractor.metadataCache[emulator_url] = RefusedKeys()
    return keys


def channel_metadata_url(configured: str) -> str:
    return configured or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
