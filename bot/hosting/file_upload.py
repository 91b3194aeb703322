"""Uploading a file the admin accepted (Teams' file consent) to the address Teams gives.

The address arrives in the invoke's `uploadInfo.uploadUrl`: with sign-in on it comes from Teams
(a pre-authorised OneDrive for Business upload session, https on *.sharepoint.com); with sign-in
off anyone who reaches the bot can send an invoke, a web page included. So a transcript is never
PUT to an arbitrary address: https on an allowed host only (UPLOAD_HOSTS), and loopback (http or
https) only with sign-in off and only on the local connector's own host and port (the tests'
stand-in, the local tools). No redirect is followed. A log line names the host, never the path or
query (the query of an upload session is its credential). Plain aiohttp; no Bot Framework type.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from urllib.parse import urlsplit

import aiohttp

from bot.service_urls import LOOPBACK, local_origin

log = logging.getLogger(__name__)
# OneDrive for Business, where Teams puts a file a bot sends in a personal chat (files are not
# offered in GCC High, DoD or 21Vianet, whose SharePoint hosts differ).
UPLOAD_HOSTS = ("*.sharepoint.com",)
TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
REMEMBERED = 256  # uploads remembered by activity, so a re-run of the same turn never uploads twice


class UploadRefused(Exception):
    """The upload address is not one a transcript may go to: nothing was sent."""


class UploadFailed(Exception):
    """The upload was tried and did not succeed (an error status, a timeout, a broken connection)."""


def host_of(url: object) -> str:
    """The URL's host, for a log line (never its path or query)."""
    try:
        return str(urlsplit(url).hostname or "?")[:100] if isinstance(url, str) else "?"
    except ValueError:
        return "?"


class UploadPolicy:
    def __init__(self, hosts: tuple[str, ...] = UPLOAD_HOSTS, local_service_url: str = "") -> None:
        """local_service_url: sign-in is off and this is the one local connector; an upload on
        loopback is allowed to its host and port only. Empty: no loopback upload at all."""
        patterns = [h.strip().lower().rstrip(".") for h in hosts if h.strip()]
        self._exact = frozenset(p for p in patterns if not p.startswith("*."))
        self._suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))
        local = local_origin(local_service_url) if local_service_url else None
        self._local = (local[1], local[2]) if local else None  # (host, port)

    def allows(self, url: object) -> bool:
        if not isinstance(url, str) or any(ch.isspace() for ch in url):
            return False
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".").lower()
            port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
        except ValueError:
            return False
        if not host or parts.username is not None or parts.password is not None or parts.fragment:
            return False
        if not all(0 < len(label) <= 63 for label in host.split(".")):  # a host name aiohttp can encode
            return False
        if host in LOOPBACK:
            return parts.scheme in ("http", "https") and self._local is not None and (host, port) == self._local
        listed = host in self._exact or host.endswith(self._suffixes)
        return parts.scheme == "https" and port == 443 and listed


class TranscriptUploader:
    """PUTs a whole file in one request (Content-Length and Content-Range: bytes 0-(n-1)/n), as
    an upload session takes it; one shared aiohttp session."""

    def __init__(self, policy: UploadPolicy) -> None:
        self.policy = policy
        self._session: aiohttp.ClientSession | None = None
        self._done: OrderedDict[tuple[str, str], bool] = OrderedDict()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._session

    async def upload(self, url: str, data: bytes, once_per: tuple[str, str] | None = None) -> None:
        """Upload `data` to `url`; raises UploadRefused (nothing sent) or UploadFailed. `once_per`
        (conversation, activity id): a second call for the same activity in this process (the
        turn re-run on fresh state) does not upload again, and answers as the first did."""
        if once_per is not None and once_per in self._done:
            if not self._done[once_per]:
                raise UploadFailed("the upload already failed in this turn")
            return
        if not self.policy.allows(url):
            log.warning("file upload refused: %s is not an allowed upload address", host_of(url))
            raise UploadRefused(host_of(url))
        size = len(data)
        headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"}
        ok = False
        try:
            async with self._client().put(url, data=data, headers=headers, allow_redirects=False) as response:
                await response.read()
                ok = response.status in (200, 201)
                if not ok:
                    log.warning("file upload to %s answered %d", host_of(url), response.status)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:  # ValueError: a URL aiohttp cannot encode
            log.warning("file upload to %s failed: %s", host_of(url), type(error).__name__)
        if once_per is not None:
            self._done[once_per] = ok
            while len(self._done) > REMEMBERED:
                self._done.popitem(last=False)
        if not ok:
            raise UploadFailed(host_of(url))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
