"""Which Bot Connector addresses the bot will talk to.

An activity's serviceUrl is where the bot sends its replies, with its own bearer token. The SDK
trusts it once the caller's token checks out, and the emulator-token branch does not even tie
the two together, so every outbound call and every stored address is checked here first:
https on a Teams / Bot Framework host (public and government clouds, or SERVICE_URL_HOSTS), and
loopback only when it is listed (the tests, sign-in on) or, with sign-in off, only the one local
connector of LOCAL_SERVICE_URL (the Agents Playground's): that host and port and that path, no
query. With sign-in off anyone who reaches the bot picks the serviceUrl, a web page included, so
any other loopback address would let it make the bot POST JSON to another local service.
Plain Python.
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class UntrustedServiceUrl(Exception):
    """A serviceUrl whose host is not on the allow-list: nothing is sent there, nothing stored."""

    def __init__(self, url: str) -> None:
        host = urlsplit(url).hostname if isinstance(url, str) else None
        super().__init__(f"service URL host {str(host)[:100]!r} is not on SERVICE_URL_HOSTS")


def local_origin(url: str) -> tuple[str, str, int, str] | None:
    """(scheme, host, port, path) of a plain loopback connector URL with nothing else in it (no
    user, query or fragment); None for anything else."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or host not in LOOPBACK or parts.username is not None:
        return None
    if parts.password is not None or parts.query or parts.fragment or "?" in url or "#" in url:
        return None
    return parts.scheme, host, port, parts.path.rstrip("/")


class ServiceUrlPolicy:
    def __init__(self, hosts: tuple[str, ...], allow_loopback: bool, local_service_url: str = "") -> None:
        """allow_loopback: sign-in is off, and the one loopback connector allowed is
        `local_service_url` (exactly; a trailing slash aside)."""
        patterns = [h.strip().lower().rstrip(".") for h in hosts if h.strip()]
        self._exact = frozenset(p for p in patterns if not p.startswith("*."))
        self._suffixes = tuple(p[1:] for p in patterns if p.startswith("*."))  # "*.x.com" -> ".x.com"
        self._allow_loopback = allow_loopback
        self._local = local_origin(local_service_url) if local_service_url else None
        self._seen: dict[str, bool] = {}  # a handful of distinct URLs in practice: checked once each

    def allows(self, url: object) -> bool:
        if not isinstance(url, str):
            return False
        known = self._seen.get(url)
        if known is None:
            known = self._check(url)
            if len(self._seen) < 1024:
                self._seen[url] = known
        return known

    def require(self, url: object) -> str:
        if not self.allows(url):
            raise UntrustedServiceUrl(url if isinstance(url, str) else "")
        return url  # type: ignore[return-value]

    def _check(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").rstrip(".")
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        if not host or parts.username is not None or parts.password is not None:
            return False
        listed = host in self._exact or host.endswith(self._suffixes)
        if host in LOOPBACK:
            # With auth on only when listed (the tests); with auth off only the local connector.
            if listed:
                return parts.scheme in ("http", "https")
            return self._allow_loopback and self._local is not None and local_origin(url) == self._local
        return parts.scheme == "https" and listed
