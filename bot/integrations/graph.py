"""What Microsoft Graph can tell about the target user, and whether the asker is an admin.

App-only through msal: the App Service's managed identity (msal's ManagedIdentityClient reads
IDENTITY_ENDPOINT / IDENTITY_HEADER, or falls back to IMDS), or client credentials (a secret or a
certificate); the token cache kept in the one msal client for the life of the process. Graph calls go out
on aiohttp with a timeout short enough that a turn still answers within Teams' 15 seconds; on
a timeout or an error the bot asks the admin instead, and says why.

Graph cannot see soft-deleted mailboxes, nor on-premises AD: those questions stay with the admin.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import msal
import requests

from bot.integrations import telemetry

log = logging.getLogger(__name__)
RESOURCE = "https://graph.microsoft.com"
SCOPE = f"{RESOURCE}/.default"
RECYCLE_BIN_DAYS = 30
ADMIN_ROLE_TEMPLATES = {
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
}
PERMISSION_HINTS = {
    "user": "the app lacks the User.Read.All application permission (or admin consent for it)",
    "roles": "the app lacks RoleManagement.Read.Directory (or Directory.Read.All) to read directory roles",
    "groups": "the app lacks GroupMember.Read.All to check group membership",
}


class GraphUnavailable(Exception):
    """Graph could not answer; the message is for the admin."""


@dataclass(frozen=True)
class GraphSettings:
    tenant_id: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    certificate_path: str = ""
    certificate_thumbprint: str = ""
    authority_host: str = "https://login.microsoftonline.com"
    endpoint: str = "https://graph.microsoft.com"
    ca_bundle: str = ""  # a private CA (tests, TLS inspection proxies); empty = the system's
    timeout_seconds: float = 6.0
    use_managed_identity: bool = False
    managed_identity_client_id: str = ""  # a user-assigned identity; empty = system-assigned


class _TimedSession(requests.Session):
    """requests has no default timeout, and msal's managed identity client passes none: without
    one a hung identity endpoint would hold a worker thread for ever."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(*args, **kwargs)


@dataclass
class EntraFinding:
    """Entra state of a UPN as Graph sees it. state: present | soft_deleted | not_found."""

    state: str
    checked_at: str
    object_id: str = ""
    synced: bool | None = None  # onPremisesSyncEnabled: True synced, None cloud-only
    licensed: bool | None = None
    deleted_at: str = ""
    days_left: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _finding(state: str, checked: str, user: dict, **extra: Any) -> EntraFinding:
    # onPremisesSyncEnabled: true for a synced user, null for a cloud-only one.
    return EntraFinding(
        state,
        checked,
        user.get("id", ""),
        True if user.get("onPremisesSyncEnabled") else None,
        bool(user.get("assignedLicenses")),
        **extra,
    )


class GraphClient:
    def __init__(self, settings: GraphSettings) -> None:
        self.settings = settings
        self._app: msal.ConfidentialClientApplication | None = None
        self._identity: msal.ManagedIdentityClient | None = None
        self._ssl: ssl.SSLContext | bool = ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else True
        self._session: aiohttp.ClientSession | None = None

    def _msal_app(self) -> msal.ConfidentialClientApplication:
        """Made on first use, on a worker thread: msal discovers the authority over the network
        when it is built, and the bot must start (and keep serving) whether or not Entra answers."""
        if self._app is None:
            settings = self.settings
            credential: Any = settings.client_secret
            if settings.certificate_path:
                with open(settings.certificate_path, encoding="utf-8") as handle:
                    credential = {"private_key": handle.read(), "thumbprint": settings.certificate_thumbprint}
            http = requests.Session()
            if settings.ca_bundle:
                # An explicit CA wins over REQUESTS_CA_BUNDLE from the environment (which requests
                # would otherwise prefer); proxies from the environment still apply.
                http.trust_env = False
                http.proxies.update(urllib.request.getproxies())
                http.verify = settings.ca_bundle
            self._app = msal.ConfidentialClientApplication(
                settings.client_id,
                client_credential=credential,
                authority=f"{settings.authority_host.rstrip('/')}/{settings.tenant_id}",
                http_client=http,
                timeout=settings.timeout_seconds,
                instance_discovery=settings.authority_host.startswith("https://login.microsoftonline.com"),
            )
        return self._app

    def _managed_identity(self) -> msal.ManagedIdentityClient:
        if self._identity is None:
            client_id = self.settings.managed_identity_client_id
            identity = (
                msal.UserAssignedManagedIdentity(client_id=client_id) if client_id else msal.SystemAssignedManagedIdentity()
            )
            self._identity = msal.ManagedIdentityClient(identity, http_client=_TimedSession(self.settings.timeout_seconds))
        return self._identity

    def _acquire(self) -> dict:
        if self.settings.use_managed_identity:
            return self._managed_identity().acquire_token_for_client(resource=RESOURCE)
        return self._msal_app().acquire_token_for_client([SCOPE])

    async def _token(self) -> str:
        # msal is synchronous (requests); it answers from its cache until the token nears expiry.
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, self._acquire)
        except Exception as exc:
            where = "its managed identity endpoint" if self.settings.use_managed_identity else "Entra ID"
            raise GraphUnavailable(f"the bot could not reach {where} to sign in to Graph ({type(exc).__name__})") from exc
        if "access_token" not in result:
            log.warning("Graph token refused: %s", result.get("error"))
            raise GraphUnavailable(f"the bot could not sign in to Microsoft Graph ({result.get('error', 'unknown error')})")
        return result["access_token"]

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds))
        return self._session

    async def _get(self, url: str, purpose: str, extra_headers: dict[str, str] | None = None) -> tuple[int, dict]:
        return await self._send("GET", url, purpose, None, extra_headers)

    async def _send(
        self, method: str, url: str, purpose: str, payload: dict | None = None, extra_headers: dict[str, str] | None = None
    ) -> tuple[int, dict]:
        try:
            return await self._send_once(method, url, purpose, payload, extra_headers)
        except GraphUnavailable:
            telemetry.count("graph.failures", purpose=purpose)
            raise

    async def _send_once(
        self, method: str, url: str, purpose: str, payload: dict | None, extra_headers: dict[str, str] | None
    ) -> tuple[int, dict]:
        try:
            token = await asyncio.wait_for(self._token(), self.settings.timeout_seconds)
            headers = {"Authorization": f"Bearer {token}", **(extra_headers or {})}
            async with self._client().request(method, url, headers=headers, json=payload, ssl=self._ssl) as response:
                body = await response.json(content_type=None) if response.content_length != 0 else {}
                status = response.status
        except TimeoutError as exc:
            raise GraphUnavailable("Microsoft Graph did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise GraphUnavailable(f"Microsoft Graph could not be reached ({type(exc).__name__})") from exc
        if status == 403:
            raise GraphUnavailable(PERMISSION_HINTS[purpose])
        if status == 401:
            raise GraphUnavailable("Microsoft Graph refused the bot's token")
        if status >= 500 or status == 429:
            raise GraphUnavailable(f"Microsoft Graph answered {status}; try 'recheck' in a minute")
        return status, body if isinstance(body, dict) else {}

    async def _all_pages(self, url: str, purpose: str, headers: dict[str, str] | None = None) -> list[dict]:
        items: list[dict] = []
        for _ in range(50):  # a bound: 50 pages of 100 is more than any UPN filter returns
            status, body = await self._get(url, purpose, headers)
            if status != 200:
                raise GraphUnavailable(f"Microsoft Graph answered {status}")
            items.extend(body.get("value", []))
            next_link = body.get("@odata.nextLink")
            if not isinstance(next_link, str) or not next_link:
                break
            url = next_link
        return items

    async def entra_state(self, upn: str) -> EntraFinding:
        base = self.settings.endpoint.rstrip("/")
        checked = now_utc().isoformat(timespec="seconds")
        fields = "id,userPrincipalName,onPremisesSyncEnabled,assignedLicenses"
        status, user = await self._get(f"{base}/v1.0/users/{quote(upn, safe='@')}?$select={fields}", "user")
        if status == 200:
            return _finding("present", checked, user)
        if status != 404:
            raise GraphUnavailable(f"Microsoft Graph answered {status}")
        # A deleted synced user's UPN gains its object id as a prefix, so match the end.
        odata_filter = "endswith(userPrincipalName,'{}')".format(upn.replace("'", "''"))
        url = (
            f"{base}/v1.0/directory/deletedItems/microsoft.graph.user?$filter={quote(odata_filter)}"
            f"&$count=true&$top=100&$select={fields},deletedDateTime"
        )
        pages = await self._all_pages(url, "user", {"ConsistencyLevel": "eventual"})
        # The filter matches the end (joann@ for ann@): keep only this UPN, with or without the prefix.
        this_user = re.compile(r"(?:[0-9a-f]{32})?" + re.escape(upn.lower()))
        deleted = [u for u in pages if this_user.fullmatch(str(u.get("userPrincipalName", "")).lower())]
        if not deleted:
            return EntraFinding("not_found", checked)
        newest = max(deleted, key=lambda u: u.get("deletedDateTime") or "")
        deleted_at = newest.get("deletedDateTime") or ""
        days_left = None
        if deleted_at:
            age = now_utc() - datetime.fromisoformat(deleted_at.replace("Z", "+00:00"))
            days_left = max(0, RECYCLE_BIN_DAYS - age.days)
        return _finding("soft_deleted", checked, newest, deleted_at=deleted_at, days_left=days_left)

    async def admin_roles(self, object_id: str) -> list[str]:
        """The admin roles (Exchange, User, Global Administrator) the user holds, directly or by group."""
        base = self.settings.endpoint.rstrip("/")
        url = (
            f"{base}/v1.0/users/{quote(object_id, safe='')}/transitiveMemberOf/microsoft.graph.directoryRole"
            "?$select=roleTemplateId,displayName"
        )
        roles = await self._all_pages(url, "roles")
        return [ADMIN_ROLE_TEMPLATES[r["roleTemplateId"]] for r in roles if r.get("roleTemplateId") in ADMIN_ROLE_TEMPLATES]

    async def in_group(self, object_id: str, group_id: str) -> bool:
        """Whether the user is in the group, directly or through nested groups (checkMemberGroups)."""
        base = self.settings.endpoint.rstrip("/")
        url = f"{base}/v1.0/users/{quote(object_id, safe='')}/checkMemberGroups"
        status, body = await self._send("POST", url, "groups", {"groupIds": [group_id]})
        if status != 200:
            raise GraphUnavailable(f"Microsoft Graph answered {status}")
        return group_id in body.get("value", [])

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class RoleCheck:
    """Who may use the bot, as Graph sees them: holders of an Exchange, User or Global
    Administrator role (directly or through a group) when `require_role`, members (direct or
    nested) of one Entra group when `group_id`. Answers are kept ten minutes per user; a Graph
    failure is not kept, and refuses: an access check that cannot be made does not pass."""

    def __init__(self, client: GraphClient, require_role: bool = True, group_id: str = "", keep_seconds: float = 600.0) -> None:
        self.client = client
        self.require_role = require_role
        self.group_id = group_id
        self.keep_seconds = keep_seconds
        self._answers: dict[str, tuple[float, str]] = {}

    async def allowed(self, object_id: str) -> tuple[bool, str]:
        if not object_id:
            return False, "This bot is for the tenant's administrators, and Teams did not say who you are."
        now = asyncio.get_running_loop().time()
        kept = self._answers.get(object_id)
        if kept and now - kept[0] < self.keep_seconds:
            return not kept[1], kept[1]
        try:
            refusal = ""
            if self.require_role and not await self.client.admin_roles(object_id):
                refusal = NOT_AN_ADMIN
            elif self.group_id and not await self.client.in_group(object_id, self.group_id):
                refusal = NOT_IN_GROUP
        except GraphUnavailable as exc:
            return False, f"I could not verify that you may use this bot ({exc}). Please try again in a minute."
        self._answers[object_id] = (now, refusal)
        return not refusal, refusal


NOT_AN_ADMIN = (
    "This bot is for Exchange Administrators, User Administrators and Global Administrators, and Microsoft "
    "Graph shows you hold none of these roles. Ask your IT administrator to recover the mailbox."
)
NOT_IN_GROUP = (
    "This bot is for the tenant's Exchange administrators, and you are not in the group allowed to use it. "
    "Ask your IT administrator to recover the mailbox, or to add you to that group."
)
