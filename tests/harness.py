"""Test doubles that speak the real wire formats on loopback: a Bot Connector service that
records what the bot sends (Teams itself cannot run here), and an admin who posts Teams-shaped
activities to the bot over real HTTP."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@dataclass
class Recorded:
    kind: str  # "send" | "update" | "create"
    conversation_id: str
    activity: dict[str, Any]
    activity_id: str
    authorization: str = ""


@dataclass
class Upload:
    """A PUT to the loopback upload endpoint (what Teams' uploadInfo.uploadUrl points at in tests)."""

    name: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int


class Connector:
    """A loopback Bot Connector: POST/PUT under /v3/conversations, answering like the real one;
    and PUT /upload/<name>, standing in for the OneDrive upload session of a file consent."""

    def __init__(self) -> None:
        self.records: list[Recorded] = []
        self._ids = itertools.count(1)
        self.fail_next: list[int] = []  # HTTP statuses to answer any call with before succeeding
        self.fail_create: list[int] = []  # the same, for creating conversations (tickets) only
        self.members: dict[str, dict[str, Any]] = {}
        self.hold_create: asyncio.Event | None = None  # when set up, creating a conversation waits for it
        self.create_waiting = asyncio.Event()
        self.uploads: list[Upload] = []
        self.fail_upload: list[int] = []  # HTTP statuses to answer uploads with before succeeding
        self.redirect_upload = ""  # where to redirect uploads to (307), when set
        self.runner: web.AppRunner | None = None
        self.url = ""

    def _next_id(self) -> str:
        return f"bot-activity-{next(self._ids)}"

    async def _maybe_fail(self, queue: list[int] | None = None) -> web.Response | None:
        queue = self.fail_next if queue is None else queue
        if queue:
            status = queue.pop(0)
            return web.json_response(
                {"error": {"code": "Throttled", "message": "retry"}}, status=status, headers={"Retry-After": "0"}
            )
        return None

    async def reply(self, request: web.Request) -> web.Response:
        failed = await self._maybe_fail()
        if failed:
            return failed
        body = await request.json()
        activity_id = self._next_id()
        self.records.append(
            Recorded("send", request.match_info["conversation"], body, activity_id, request.headers.get("Authorization", ""))
        )
        return web.json_response({"id": activity_id})

    async def update(self, request: web.Request) -> web.Response:
        failed = await self._maybe_fail()
        if failed:
            return failed
        body = await request.json()
        self.records.append(Recorded("update", request.match_info["conversation"], body, request.match_info["activity"]))
        return web.json_response({"id": request.match_info["activity"]})

    async def create(self, request: web.Request) -> web.Response:
        if self.hold_create is not None:
            self.create_waiting.set()
            await self.hold_create.wait()
        failed = await self._maybe_fail(self.fail_create) or await self._maybe_fail()
        if failed:
            return failed
        body = await request.json()
        channel = (body.get("channelData") or {}).get("channel", {}).get("id", "channel")
        conversation_id = f"{channel};messageid={uuid.uuid4().hex[:8]}"
        activity_id = self._next_id()
        self.records.append(Recorded("create", conversation_id, body, activity_id))
        return web.json_response({"id": conversation_id, "activityId": activity_id})

    async def member(self, request: web.Request) -> web.Response:
        """TeamsInfo.get_member: the admin's profile, as Teams answers it."""
        user_id = request.match_info["user"]
        profile = self.members.get(user_id)
        if profile is None:
            return web.json_response({"error": {"code": "NotFound", "message": "member not found"}}, status=404)
        return web.json_response(profile)

    async def upload(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = 307 if self.redirect_upload else self.fail_upload.pop(0) if self.fail_upload else 201
        self.uploads.append(Upload(request.match_info["name"], request.query_string, dict(request.headers), body, status))
        if self.redirect_upload:
            return web.Response(status=307, headers={"Location": self.redirect_upload})
        return web.json_response({"name": request.match_info["name"], "size": len(body)}, status=status)

    def upload_info(self, name: str, upload_url: str | None = None) -> dict[str, str]:
        """uploadInfo as Teams sends it with an accepted file consent, its uploadUrl on this connector."""
        return {
            "name": name,
            "uploadUrl": upload_url or f"{self.url}upload/{name}?session=t0ken",
            "contentUrl": f"https://contoso-my.sharepoint.com/personal/adele/Documents/Applications/{name}",
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": "txt",
        }

    async def start(self) -> str:
        app = web.Application()
        app.router.add_put("/upload/{name}", self.upload)
        app.router.add_get("/v3/conversations/{conversation}/members/{user}", self.member)
        app.router.add_post("/v3/conversations", self.create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self.reply)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self.reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self.update)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/"
        return self.url

    async def stop(self) -> None:
        if self.runner:
            await self.runner.cleanup()

    def created(self) -> list[Recorded]:
        return [r for r in self.records if r.kind == "create"]

    def sent_to(self, conversation_id: str) -> list[Recorded]:
        return [r for r in self.records if r.conversation_id == conversation_id]


def cards_of(records: list[Recorded]) -> list[dict]:
    return [
        a["content"]
        for r in records
        for a in r.activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def texts_of(records: list[Recorded]) -> list[str]:
    """Everything a person would read in these activities: texts, card text, code, button titles."""
    out = []
    for record in records:
        if record.activity.get("text"):
            out.append(record.activity["text"])
        for attachment in record.activity.get("attachments") or []:
            out.append(flatten(attachment.get("content")))
    return out


def joined(records: list[Recorded]) -> str:
    """All a person would read in these activities, as one text."""
    return "\n".join(texts_of(records))


def flatten(node: Any) -> str:
    if isinstance(node, dict) and node.get("type") == "RichTextBlock":  # its TextRuns read as one text
        return "".join(str(run.get("text", "")) for run in node.get("inlines") or [] if isinstance(run, dict))
    if isinstance(node, dict):
        parts = [str(node[k]) for k in ("text", "title", "codeSnippet", "value", "label") if isinstance(node.get(k), str)]
        if node.get("type") == "FactSet":
            parts += [f"{f['title']}: {f['value']}" for f in node.get("facts", [])]
        for key, value in node.items():
            if key in ("body", "items", "actions", "card", "inlines", "columns"):
                parts.append(flatten(value))
        return "\n".join(p for p in parts if p)
    if isinstance(node, list):
        return "\n".join(flatten(n) for n in node)
    return ""


def actions_of(card: dict) -> list[dict]:
    """The card's buttons: its actions, then those of ActionSets in its body (a row's own button)."""
    in_body = [a for e in card.get("body", []) if e.get("type") == "ActionSet" for a in e.get("actions", [])]
    return [*card.get("actions", []), *in_body]


def find_action(records: list[Recorded], title: str) -> tuple[dict, str]:
    """(data, activity id of its card) of the last button with that title."""
    for record in reversed(records):
        for content in cards_of([record]):
            for action in actions_of(content):
                if action.get("title") == title and action.get("type") == "Action.Submit":
                    return action["data"], record.activity_id
    raise AssertionError(f"no button {title!r} in {[a.get('title') for c in cards_of(records) for a in actions_of(c)]}")


@dataclass
class Admin:
    """An admin in a Teams personal chat with the bot."""

    bot_url: str
    connector: Connector
    name: str = "Adele Vance"
    aad_object_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    tenant_id: str = TENANT
    conversation_id: str = field(default_factory=lambda: "a:1" + uuid.uuid4().hex)
    session: aiohttp.ClientSession | None = None
    time_zone: str = ""  # the IANA zone Teams reports for the admin's client

    @property
    def user_id(self) -> str:
        return "29:1" + self.aad_object_id.replace("-", "")

    def activity(self, **fields: Any) -> dict[str, Any]:
        base = {
            "type": "message",
            "id": fields.pop("id", None) or f"1{uuid.uuid4().int % 10**12}",
            "timestamp": "2026-11-25T17:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": self.user_id, "name": self.name, "aadObjectId": self.aad_object_id},
            "conversation": {"conversationType": "personal", "tenantId": self.tenant_id, "id": self.conversation_id},
            "recipient": {"id": "28:bot-app-id", "name": "Mailbox Recovery"},
            "channelData": {"tenant": {"id": self.tenant_id}},
            "locale": "en-US",
        }
        if self.time_zone:  # as Teams sends it: the activity's localTimezone and the clientInfo entity
            base["localTimezone"] = self.time_zone
            base["entities"] = [{"type": "clientInfo", "locale": "en-US", "timezone": self.time_zone}]
        base.update(fields)
        return base

    async def post(self, body: Any, headers: dict[str, str] | None = None, raw: bytes | None = None) -> aiohttp.ClientResponse:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        headers = {"Content-Type": "application/json", **(headers or {})}
        data = raw if raw is not None else json.dumps(body)
        for attempt in (1, 2):
            try:
                async with self.session.post(self.bot_url, data=data, headers=headers) as response:
                    await response.read()
                    return response
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if attempt == 2:
                    raise  # a kept-alive connection to a bot that was killed: once more on a new one

    async def send(self, **fields: Any) -> list[Recorded]:
        before = len(self.connector.records)
        response = await self.post(self.activity(**fields))
        assert response.status in (200, 201), response.status
        return [r for r in self.connector.records[before:] if r.conversation_id == self.conversation_id]

    async def invoke(self, name: str, value: Any, **fields: Any) -> tuple[int, Any, list[Recorded]]:
        """An invoke (fileConsent/invoke...): the HTTP status and body the bot answered, and what it sent."""
        before = len(self.connector.records)
        response = await self.post(self.activity(type="invoke", name=name, value=value, **fields))
        body = json.loads(await response.text() or "null")
        return response.status, body, [r for r in self.connector.records[before:] if r.conversation_id == self.conversation_id]

    async def say(self, text: str) -> list[Recorded]:
        return await self.send(text=text)

    async def click(self, data: dict[str, Any], card_id: str | None = None, **inputs: str) -> list[Recorded]:
        """A Teams Action.Submit: text None, the button's data plus the card's inputs in value."""
        return await self.send(value={**data, **inputs}, replyToId=card_id)

    async def press(self, title: str, records: list[Recorded] | None = None, **inputs: str) -> list[Recorded]:
        data, card_id = find_action(records if records is not None else self.history(), title)
        return await self.click(data, card_id, **inputs)

    def history(self) -> list[Recorded]:
        return self.connector.sent_to(self.conversation_id)

    async def close(self) -> None:
        if self.session:
            await self.session.close()


@dataclass
class RoundRobinAdmin(Admin):
    """An admin whose every message lands on the next bot instance, as behind a load balancer."""

    urls: list[str] = field(default_factory=list)
    turn: int = 0

    async def post(self, body, headers=None, raw=None):
        self.bot_url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        return await super().post(body, headers, raw)


async def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


def channel_member(
    bot_url: str, connector: Connector, channel: str, name: str, aad_object_id: str | None = None, thread: str = ""
) -> Admin:
    """Someone posting in a team's channel, or in a ticket's thread there (conversation `thread`)."""
    member = Admin(bot_url, connector, name=name, conversation_id=thread or channel)
    if aad_object_id:
        member.aad_object_id = aad_object_id
    original = member.activity

    def channel_activity(**fields: Any) -> dict[str, Any]:
        activity = original(**fields)
        activity["conversation"]["conversationType"] = "channel"
        activity["channelData"]["channel"] = {"id": channel}
        activity["channelData"]["team"] = {"id": "19:team", "name": "IT Support"}
        return activity

    member.activity = channel_activity
    return member
