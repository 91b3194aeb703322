"""The HTTP edge: POST /api/messages and GET /healthz on aiohttp.

The stock SDK answers 500 to a malformed Authorization header or a body that is not JSON; here
they get 401 and 400 before the SDK sees them, and an oversized body gets 413.
"""

from __future__ import annotations

import json
import logging
import re
import time

from aiohttp import web
from botbuilder.core import Bot
from botbuilder.schema import Activity

log = logging.getLogger(__name__)
_JWT_SHAPE = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def create_app(adapter, bot: Bot, max_body_bytes: int = 256 * 1024) -> web.Application:
    async def messages(request: web.Request) -> web.StreamResponse:
        started = time.perf_counter()
        if "application/json" not in request.headers.get("Content-Type", ""):
            return json_error(415, "expected application/json")
        if request.content_length is not None and request.content_length > max_body_bytes:
            return json_error(413, "body too large")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return json_error(413, "body too large")
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return json_error(400, "body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return json_error(400, "body is not an activity")
        auth_header = request.headers.get("Authorization", "")
        if auth_header and not _JWT_SHAPE.match(auth_header):
            return json_error(401, "malformed Authorization header")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - msrest raises several kinds on a wrong shape
            return json_error(400, "body is not an activity")
        outcome = "ok"
        try:
            response = await adapter.process_activity(auth_header, activity, bot.on_turn)
        except PermissionError:
            outcome = "unauthorized"
            return json_error(401, "unauthorized")
        except Exception as exc:  # jwt errors are the caller's fault; the rest is re-raised
            if type(exc).__module__.startswith("jwt"):
                outcome = "unauthorized"
                return json_error(401, "unauthorized")
            outcome = "error"
            raise
        finally:
            log.info(
                "turn activity=%s type=%s conversation=%s duration_ms=%.1f outcome=%s",
                body.get("id"),
                body.get("type"),
                (body.get("conversation") or {}).get("id"),
                (time.perf_counter() - started) * 1000,
                outcome,
            )
        if response:
            return web.json_response(data=response.body, status=response.status)
        return web.Response(status=201)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application(client_max_size=max_body_bytes)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    return app
