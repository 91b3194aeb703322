"""Composition root: settings from the environment, then the adapter, state, bot and web server.

`python app.py` runs the bot. With no MicrosoftAppId it listens on 127.0.0.1 only, with
authentication off, for local tools such as the Microsoft 365 Agents Playground.

On SIGTERM it stops taking turns (503), lets the turns in flight finish (10 s at most), drains
what is registered with `app[LIFECYCLE].on_shutdown(name, coroutine_function)` (the ticket
retries; any other background sender registers the same way, e.g. a `Periodic(...).stop`), closes
the store and exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.hosting.adapter import BufferingCloudAdapter, create_adapter
from bot.hosting.file_upload import TranscriptUploader, UploadPolicy
from bot.hosting.lifecycle import Lifecycle, Periodic
from bot.hosting.openid_keys import OpenIdKeys, channel_metadata_url, install
from bot.hosting.outgoing import CardIds
from bot.hosting.server import create_app
from bot.integrations import telemetry
from bot.integrations.graph import GraphClient, RoleCheck
from bot.playbook import DEFAULT_PATH, PlaybookError, load_playbook
from bot.reminders import ReminderDesk, ReminderScheduler, ReminderStore
from bot.settings import Settings
from bot.storage import DocumentStore, MemoryDocumentStore, SqliteDocumentStore, StoreUnavailable
from bot.storage.budget import DailyBudget
from bot.storage.housekeeping import run_forever
from bot.storage.ledger import ActivityLedger
from bot.support.admins import SupportAdmins
from bot.support.escalation import ChannelAddress, EscalationDesk
from bot.support.tickets import TicketStore
from bot.support.transcript import TranscriptStore
from bot.teams.handlers import MailboxRecoveryBot, RecoveryBot
from bot.teams.reminder_sender import TeamsReminderSender
from bot.teams.support_channel import TeamsSupportChannel
from bot.teams.support_handler import SupportChannelBot
from bot.turn.access import AccessGate
from bot.turn.bot_storage import DocumentStorage
from bot.turn.services import Services
from bot.turn.state import JsonConversationState
from bot.turn.turn_pipeline import TurnPipeline
from bot.walkthrough.case_store import CaseStore
from dialogs.main_dialog import MainDialog

log = logging.getLogger("mailbox_recovery")
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
STORE_PROBE_SECONDS = 5.0


class StartupRefused(SystemExit):
    pass


def create_documents(settings: Settings) -> DocumentStore:
    if settings.state_store == "sqlite":
        return SqliteDocumentStore(settings.sqlite_path)
    if settings.state_store == "blob":
        from bot.storage.blob_store import BlobDocumentStore, managed_identity_credential

        tls: dict[str, Any] = {"connection_verify": settings.blob_ca_bundle} if settings.blob_ca_bundle else {}
        if settings.blob_account_url:
            credential = managed_identity_credential(settings.azure_client_id)
            return BlobDocumentStore(
                "", settings.blob_container, account_url=settings.blob_account_url, credential=credential, **tls
            )
        if not settings.blob_connection_string:
            raise StartupRefused("STATE_STORE=blob needs BLOB_ACCOUNT_URL (with a managed identity) or BLOB_CONNECTION_STRING")
        return BlobDocumentStore(settings.blob_connection_string, settings.blob_container, **tls)
    if settings.state_store == "memory":
        if settings.auth_enabled:
            raise StartupRefused("STATE_STORE=memory loses every case on restart; it is for tests, not a registered bot")
        return MemoryDocumentStore()
    raise StartupRefused(f"STATE_STORE must be sqlite, blob or memory, not {settings.state_store!r}")


@dataclass(frozen=True)
class Assembly:
    """Everything `assemble` wired together: what the web app serves, and the parts an operator's
    tool (or a test) may call directly, such as delivering the pending tickets now."""

    settings: Settings
    documents: DocumentStore
    adapter: BufferingCloudAdapter
    services: Services
    bot: MailboxRecoveryBot
    lifecycle: Lifecycle
    signing_keys: OpenIdKeys | None = None  # with authentication on: the Bot Framework's token signing keys
    reminders: ReminderScheduler | None = None  # run_due(now) sends what is due; stop() drains


def assemble(settings: Settings, credentials_factory=None, clock: Clock | None = None) -> Assembly:
    """Everything wired together; nothing is built at import time. `clock` is what reminders and
    deadlines read (tests pass one they move)."""
    clock = clock or SystemClock()
    mixed = settings.mixed_credentials()
    problems = [*settings.problems()]
    if mixed:
        problems.insert(0, "A secret and a managed identity for the same service: " + "; ".join(mixed))
    if problems:
        raise StartupRefused(" Also: ".join(problems))
    playbook = load_playbook(settings.playbook_path or DEFAULT_PATH)
    documents = telemetry.traced_store(create_documents(settings))
    lifecycle = Lifecycle()
    lifecycle.add_probe(lambda: store_problem(documents))
    storage = DocumentStorage(documents)
    transcripts = TranscriptStore(documents, settings.max_transcript_turns)
    adapter = create_adapter(settings, CardIds(documents), credentials_factory)
    # Token signing keys fetched off the event loop, warmed at start-up (the SDK fetches them on it).
    signing_keys = install(channel_metadata_url(settings.openid_metadata_url)) if settings.auth_enabled else None
    configured = (
        ChannelAddress(settings.support_channel_id, settings.support_service_url, settings.support_tenant_id)
        if settings.support_channel_id and settings.support_service_url
        else None
    )
    tickets = TicketStore(documents, clock)
    channel = TeamsSupportChannel(adapter, settings.app_id, tickets, transcripts, documents, configured)
    if (settings.graph_require_admin_role or settings.allowed_admin_group) and settings.graph is None:
        raise StartupRefused(
            "GRAPH_REQUIRE_ADMIN_ROLE and ALLOWED_ADMIN_GROUP need Microsoft Graph: "
            "set GRAPH_USE_MANAGED_IDENTITY=true or GRAPH_CLIENT_ID too"
        )
    for group, names in (("SUPPORT_ADMIN_GROUP", "SUPPORT_ADMINS"), ("SUPPORT_AGENT_GROUP", "SUPPORT_AGENTS")):
        if getattr(settings, group.lower()) and settings.graph is None:
            raise StartupRefused(
                f"{group} needs Microsoft Graph: set GRAPH_USE_MANAGED_IDENTITY=true or GRAPH_CLIENT_ID, or name {names} instead"
            )
    graph = None
    if settings.graph is not None:
        if not settings.graph.use_managed_identity and not settings.graph.tenant_id:
            raise StartupRefused("GRAPH_CLIENT_ID is set: GRAPH_TENANT_ID (or MicrosoftAppTenantId) is needed too")
        graph = GraphClient(settings.graph)
    case_store = CaseStore(documents, settings.max_closed_cases)
    reminder_desk = ReminderDesk(ReminderStore(documents, clock), playbook, clock, settings.wait_scale, settings.ticket_sla_hours)
    services = Services(
        playbook=playbook,
        transcripts=transcripts,
        escalation=EscalationDesk(playbook, transcripts, tickets, channel, settings.handoff_enabled),
        graph=graph,
        reminders=reminder_desk,
        clock=clock,
        diagnostics=settings.diagnostics,
        uploader=uploader_for(settings),
    )
    conversation_state = JsonConversationState(storage)
    role_check = (
        RoleCheck(graph, settings.graph_require_admin_role, settings.allowed_admin_group)
        if graph and (settings.graph_require_admin_role or settings.allowed_admin_group)
        else None
    )
    pipeline = TurnPipeline(
        conversation_state,
        case_store,
        ActivityLedger(documents),
        transcripts,
        retention_days=settings.retention_days,
        gate=AccessGate(settings.tenants_allowed, settings.allowed_admins, settings.turns_per_minute),
        role_check=role_check,
        reminders=reminder_desk,
        telemetry=telemetry.DEFAULT,
        budget=DailyBudget(documents, settings.daily_turns_per_user, settings.daily_bytes_per_user, clock),
    )
    bot = MailboxRecoveryBot(
        pipeline,
        RecoveryBot(services, MainDialog(services), conversation_state),
        SupportChannelBot(
            services.escalation,
            channel,
            SupportAdmins(
                settings.support_admins,
                settings.support_admin_group,
                graph,
                settings.support_agents,
                settings.support_agent_group,
            ),
        ),
    )
    sender = TeamsReminderSender(adapter, settings.app_id, case_store, transcripts, tickets, channel, reminder_desk, clock)
    scheduler = ReminderScheduler(
        reminder_desk.store, sender, clock, settings.reminder_poll_seconds, lookback_days=settings.retention_days
    )
    return Assembly(settings, documents, adapter, services, bot, lifecycle, signing_keys, scheduler)


def uploader_for(settings: Settings) -> TranscriptUploader | None:
    """Where transcript files may be uploaded: OneDrive for Business (https), and with sign-in off
    the local connector's own loopback host and port only (bot.hosting.file_upload)."""
    if not settings.offers_files:
        return None
    local = "" if settings.auth_enabled else settings.local_service_url
    return TranscriptUploader(UploadPolicy(local_service_url=local))


def serve(assembly: Assembly) -> web.Application:
    """The aiohttp application for an assembly, with its background jobs."""
    settings, documents, services, lifecycle = assembly.settings, assembly.documents, assembly.services, assembly.lifecycle
    app = create_app(
        assembly.adapter, assembly.bot, settings.max_body_bytes, settings.body_read_seconds, lifecycle, telemetry.DEFAULT
    )
    app[LIFECYCLE] = lifecycle

    async def housekeeping(_app: web.Application):
        tasks = [
            asyncio.create_task(run_forever(documents, settings.retention_days)),
            asyncio.create_task(measure_store(documents, lifecycle)),
        ]
        if assembly.signing_keys is not None:
            tasks.append(asyncio.create_task(assembly.signing_keys.keep_fresh()))
        ticket_retries = Periodic(settings.ticket_retry_seconds, services.escalation.retry_pending).start()
        lifecycle.on_shutdown("ticket deliveries", ticket_retries.stop)
        if assembly.reminders is not None:
            assembly.reminders.start()  # its first round sends what came due while the bot was down
            lifecycle.on_shutdown("reminders", assembly.reminders.stop)
        yield
        await ticket_retries.stop()  # a round posting a ticket finishes first
        if assembly.reminders is not None:
            await assembly.reminders.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await documents.close()
        await assembly.adapter.sender.close()
        if services.uploader is not None:
            await services.uploader.close()
        if isinstance(services.graph, GraphClient):
            await services.graph.close()

    app.cleanup_ctx.append(housekeeping)
    return app


def build(settings: Settings, credentials_factory=None) -> web.Application:
    return serve(assemble(settings, credentials_factory))


async def measure_store(documents: DocumentStore, lifecycle: Lifecycle, every_seconds: float = 3600.0) -> None:
    """The store's size, hourly: in /readyz's details and the store.bytes gauge (a full disk stops
    every write for everyone: this is what to watch)."""
    while True:
        try:
            size = await documents.size()
        except Exception:
            log.warning("could not measure the state store", exc_info=True)
            size = None
        if size is not None:
            lifecycle.details["store_bytes"] = size
            telemetry.note_store_size(size)
        await asyncio.sleep(every_seconds)


async def store_problem(documents: DocumentStore) -> str | None:
    """Why the store cannot serve a turn right now, or None."""
    try:
        await asyncio.wait_for(documents.read(["health/ready"]), STORE_PROBE_SECONDS)
    except StoreUnavailable as exc:
        log.warning("readiness: the state store is unreachable: %s", exc)
        return "the state store is unreachable"  # the error's text stays in the log: /readyz is public
    except TimeoutError:
        return f"the state store did not answer within {STORE_PROBE_SECONDS:.0f} s"
    return None


def unready_app(reason: str) -> web.Application:
    """What runs when the bot cannot be built (a broken playbook): the process answers /healthz,
    /readyz says why it is not ready, and no turn is taken, so the platform shows the reason."""
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "counters": {}})

    async def readyz(_: web.Request) -> web.Response:
        return web.json_response({"status": "not ready", "reasons": [reason]}, status=503)

    async def messages(_: web.Request) -> web.Response:
        return web.json_response({"error": "not ready: " + reason}, status=503)

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_post("/api/messages", messages)
    return app


async def run_until_stopped(app: web.Application, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully (see the module docstring)."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("stopping: no new turns; finishing the turns in flight and background deliveries")
    lifecycle = app.get(LIFECYCLE)
    if lifecycle is not None:
        await lifecycle.shut_down()
    await runner.cleanup()  # stops listening; closes the store, the connector and Graph sessions
    telemetry.uninstall()  # flushes what the exporters still hold
    log.info("stopped")


def check_exposure(settings: Settings) -> None:
    if settings.auth_enabled or settings.bind_host in ("127.0.0.1", "localhost", "::1"):
        return
    if not settings.allow_open_without_auth:
        raise StartupRefused(
            f"Refusing to listen on {settings.bind_host} with authentication off (no MicrosoftAppId). "
            "Set MicrosoftAppId, listen on 127.0.0.1, or set ALLOW_OPEN_WITHOUT_AUTH=true if this is deliberate."
        )
    log.warning("AUTHENTICATION IS OFF and the bot listens on %s: anyone who reaches it can use it", settings.bind_host)


def main() -> None:
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        raise StartupRefused(str(exc)) from None
    logging.basicConfig(level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The Azure SDK logs every HTTP exchange (blob, telemetry export) at INFO: one line a turn is ours.
    for noisy in ("azure.core.pipeline.policies.http_logging_policy", "azure.monitor.opentelemetry"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    check_exposure(settings)
    if not settings.auth_enabled:
        log.info("no MicrosoftAppId: authentication off, listening on %s only (local use)", settings.bind_host)
    exporting = telemetry.configure(settings.applicationinsights_connection_string, settings.otlp_endpoint)
    log.info("telemetry: %s", exporting or "off (no APPLICATIONINSIGHTS_CONNECTION_STRING or OTEL_EXPORTER_OTLP_ENDPOINT)")
    try:
        app = build(settings)
    except PlaybookError as exc:
        log.error("the playbook failed to load; serving /readyz with the reason and taking no turns: %s", exc)
        app = unready_app(f"the playbook failed to load: {exc}")
    log.info("bot listening on http://%s:%d/api/messages (state: %s)", settings.bind_host, settings.port, settings.state_store)
    asyncio.run(run_until_stopped(app, settings.bind_host, settings.port))


if __name__ == "__main__":
    main()
