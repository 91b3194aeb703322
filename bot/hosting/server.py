"""The HTTP edge: POST /api/messages, GET /healthz (liveness) and GET /readyz (readiness) on aiohttp.

The stock SDK answers 500 to a malformed Authorization header or a body that is not JSON; here
they get 401 and 400 before the SDK sees them, an oversized body gets 413, a body nested too deep
for the parser 400, and a body that does not arrive within `body_read_seconds` 408 (headers are
bounded by the platform's front end: App Service closes connections that stall their headers).

The caller is authenticated on the raw channelId and serviceUrl before msrest builds the
Activity, and nothing the caller sent is logged until then; after, only short, control-free
fields (an id cannot forge a log line or fill the disk).

No browser may post here: the Bot Connector sends `Content-Type: application/json` exactly and
no `Origin`, while a web page can send `text/plain; application/json` without a CORS preflight
(and always sends `Origin`). Both are refused before the body is read (415, 403): with sign-in
off (local tools), a page the developer visits cannot drive the local bot.

The turn's outcome is a value (bot.metrics.TurnOutcome): the pipeline returns it, the turn error
handler sets the error outcome, and it is mapped here to the HTTP status (busy 503, error 500),
logged, and handed to the one injected telemetry object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse
from botbuilder.schema import Activity, ChannelAccount

from bot import metrics
from bot.hosting.lifecycle import Lifecycle
from bot.hosting.logfields import log_field
from bot.integrations import telemetry as telemetry_module
from bot.integrations.telemetry import Telemetry
from bot.metrics import OUTCOME_KEY, TurnOutcome

log = logging.getLogger(__name__)
_JWT_SHAPE = re.compile(r"^Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def _routing(body: dict) -> Activity | None:
    """Just what authentication reads (channel, serviceUrl, recipient role), from the raw body;
    None when those are not strings."""
    channel_id, service_url = body.get("channelId"), body.get("serviceUrl")
    recipient = body.get("recipient")
    role = recipient.get("role") if isinstance(recipient, dict) else None
    if not isinstance(channel_id, str) or not isinstance(service_url, str) or not isinstance(role, str | None):
        return None
    return Activity(channel_id=channel_id, service_url=service_url, recipient=ChannelAccount(role=role))


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def run_turn(adapter, authenticated, activity: Activity, bot: Bot) -> tuple[TurnOutcome, InvokeResponse | None]:
    """Run the turn through the SDK; (its outcome, the SDK's invoke response or None). The bot's
    on_turn returns the pipeline's outcome; the turn error handler (bot.hosting.adapter) replaces
    it with the error outcome in the same slot, since the SDK swallows the exception."""
    slot: dict[str, TurnOutcome] = {}

    async def logic(context) -> None:
        context.turn_state[OUTCOME_KEY] = slot
        returned = await bot.on_turn(context)
        slot.setdefault("outcome", returned if isinstance(returned, TurnOutcome) else metrics.OK)

    try:
        response = await adapter.process_activity(authenticated, activity, logic)
    except Exception as error:  # noqa: BLE001 - past the error handler (it failed too): still an answer
        log.error("turn failed outside the error handler: %s", type(error).__name__)
        return metrics.failed(error), None
    return slot.get("outcome", metrics.OK), response


def http_answer(outcome: TurnOutcome, response: InvokeResponse | None) -> web.Response:
    if outcome.name == "busy":  # the same activity is being processed elsewhere: retry it shortly
        return web.json_response({"error": "this activity is being processed; retry"}, status=503, headers={"Retry-After": "2"})
    if outcome.failed:  # the admin has been told; the channel (and the Azure Bot's health) are too
        return json_error(500, "the turn failed")
    if response:
        return web.json_response(data=invoke_body(response.body), status=response.status)
    return web.Response(status=201)


def invoke_body(body: object) -> object:
    """An invoke response's body as JSON: the SDK answers a malformed adaptiveCard/action with an
    AdaptiveCardInvokeResponse model (statusCode, type application/vnd.microsoft.error, value
    {code, message}), which aiohttp cannot serialise as it is."""
    serialize = getattr(body, "serialize", None)
    return serialize() if callable(serialize) else body


def create_app(
    adapter,
    bot: Bot,
    max_body_bytes: int = 256 * 1024,
    body_read_seconds: float = 10.0,
    lifecycle: Lifecycle | None = None,
    telemetry: Telemetry | None = None,
) -> web.Application:
    lifecycle = lifecycle or Lifecycle()
    telemetry = telemetry or telemetry_module.DEFAULT

    async def messages(request: web.Request) -> web.StreamResponse:
        if lifecycle.draining:  # shutting down: the channel retries, on another instance
            return web.json_response({"error": "shutting down; retry"}, status=503, headers={"Retry-After": "2"})
        if "Origin" in request.headers:  # a browser: the Bot Connector never sends one
            return json_error(403, "requests from web pages are not accepted")
        if request.content_type != "application/json":  # the media type itself, parameters aside
            return json_error(415, "expected application/json")
        if request.content_length is not None and request.content_length > max_body_bytes:
            return json_error(413, "body too large")
        try:
            raw = await asyncio.wait_for(request.read(), body_read_seconds)
        except web.HTTPRequestEntityTooLarge:
            return json_error(413, "body too large")
        except TimeoutError:
            # A client that stalls its body would hold the connection for ever: answer and hang up.
            response = json_error(408, "the body did not arrive in time")
            await response.prepare(request)
            await response.write_eof()
            request.protocol.force_close()  # and no lingering wait for the rest of the body
            return response
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return json_error(400, "body is not JSON")
        except RecursionError:
            return json_error(400, "body is nested too deeply")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return json_error(400, "body is not an activity")
        auth_header = request.headers.get("Authorization", "")
        if auth_header and not _JWT_SHAPE.match(auth_header):
            return json_error(401, "malformed Authorization header")
        routing = _routing(body)
        if routing is None:
            return json_error(400, "body is not an activity")
        try:
            # Authenticate first, on the raw routing fields: any failure of the caller's token is
            # a 401, never a 500, and costs no deserialisation.
            authenticated = await adapter.bot_framework_authentication.authenticate_request(routing, auth_header)
        except Exception as exc:  # noqa: BLE001 - the SDK raises many kinds for a bad token
            log.info("unauthorized request: %s", type(exc).__name__)  # nothing the caller sent
            return json_error(401, "unauthorized")
        try:
            activity = Activity().deserialize(body)
        except Exception:  # noqa: BLE001 - msrest raises several kinds on a wrong shape (RecursionError too)
            return json_error(400, "body is not an activity")
        with lifecycle.turn(), telemetry.turn(body.get("type")) as trace:
            outcome, invoke = await run_turn(adapter, authenticated, activity, bot)
            duration_ms = trace.finish(outcome.name, outcome.case_id, outcome.error)
        if outcome.name == "foreign-tenant":  # nothing of another tenant's request is logged
            log.info("turn refused: foreign tenant")
        else:
            conversation = body.get("conversation")
            log.info(
                "turn activity=%s type=%s conversation=%s duration_ms=%.1f outcome=%s",
                log_field(body.get("id")),
                log_field(body.get("type")),
                log_field(conversation.get("id") if isinstance(conversation, dict) else None),
                duration_ms,
                outcome.name,
            )
        return http_answer(outcome, invoke)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "counters": dict(telemetry.counters)})

    async def readyz(_: web.Request) -> web.Response:
        reasons = await lifecycle.not_ready()
        if reasons:
            return web.json_response({"status": "not ready", "reasons": reasons}, status=503)
        return web.json_response({"status": "ready", **({"details": lifecycle.details} if lifecycle.details else {})})

    app = web.Application(client_max_size=max_body_bytes)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app
