"""Composition root: settings from the environment, then the adapter, state, bot and web server.

`python app.py` runs the bot. With no MicrosoftAppId it listens on 127.0.0.1 only, with
authentication off, for local tools such as the Microsoft 365 Agents Playground.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from dataclasses import dataclass

from aiohttp import web

from bot.access import AccessGate
from bot.adapter import BufferingCloudAdapter, create_adapter
from bot.bot_storage import DocumentStorage
from bot.case_store import CaseStore
from bot.clock import Clock, SystemClock
from bot.escalation import ChannelAddress, EscalationDesk
from bot.graph import GraphClient, RoleCheck
from bot.housekeeping import every, run_forever
from bot.ledger import ActivityLedger
from bot.outgoing import CardIds
from bot.playbook import DEFAULT_PATH, load_playbook
from bot.reminder_sender import TeamsReminderSender
from bot.reminders import ReminderDesk, ReminderScheduler, ReminderStore
from bot.server import create_app
from bot.services import Services
from bot.settings import Settings
from bot.state import JsonConversationState
from bot.storage import DocumentStore, MemoryDocumentStore, SqliteDocumentStore
from bot.support_bot import SupportChannelBot
from bot.support_channel import TeamsSupportChannel
from bot.teams_bot import MailboxRecoveryBot, RecoveryBot
from bot.tickets import TicketStore
from bot.transcript import TranscriptStore
from bot.turn_pipeline import TurnPipeline
from dialogs.main_dialog import MainDialog

log = logging.getLogger("mailbox_recovery")


class StartupRefused(SystemExit):
    pass


def create_documents(settings: Settings) -> DocumentStore:
    if settings.state_store == "sqlite":
        return SqliteDocumentStore(settings.sqlite_path)
    if settings.state_store == "blob":
        from bot.storage.blob_store import BlobDocumentStore

        return BlobDocumentStore(settings.blob_connection_string, settings.blob_container)
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
    reminders: ReminderScheduler | None = None  # run_due(now) sends what is due; stop() drains


def assemble(settings: Settings, credentials_factory=None, clock: Clock | None = None) -> Assembly:
    """Everything wired together; nothing is built at import time. `clock` is what reminders and
    deadlines read (tests pass one they move)."""
    clock = clock or SystemClock()
    playbook = load_playbook(settings.playbook_path or DEFAULT_PATH)
    documents = create_documents(settings)
    storage = DocumentStorage(documents)
    transcripts = TranscriptStore(documents)
    adapter = create_adapter(settings, CardIds(documents), credentials_factory)
    configured = (
        ChannelAddress(settings.support_channel_id, settings.support_service_url, settings.support_tenant_id)
        if settings.support_channel_id and settings.support_service_url
        else None
    )
    tickets = TicketStore(documents)
    channel = TeamsSupportChannel(adapter, settings.app_id, tickets, transcripts, documents, configured)
    if (settings.graph_require_admin_role or settings.allowed_admin_group) and settings.graph is None:
        raise StartupRefused("GRAPH_REQUIRE_ADMIN_ROLE and ALLOWED_ADMIN_GROUP need Microsoft Graph: set GRAPH_CLIENT_ID too")
    graph = None
    if settings.graph is not None:
        if not settings.graph.tenant_id:
            raise StartupRefused("GRAPH_CLIENT_ID is set: GRAPH_TENANT_ID (or MicrosoftAppTenantId) is needed too")
        graph = GraphClient(settings.graph)
    case_store = CaseStore(documents)
    reminder_desk = ReminderDesk(ReminderStore(documents), playbook, clock, settings.wait_scale, settings.ticket_sla_hours)
    services = Services(
        playbook=playbook,
        transcripts=transcripts,
        escalation=EscalationDesk(playbook, transcripts, tickets, channel, settings.handoff_enabled),
        graph=graph,
        reminders=reminder_desk,
        clock=clock,
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
    )
    bot = MailboxRecoveryBot(
        pipeline,
        RecoveryBot(services, MainDialog(services), conversation_state),
        SupportChannelBot(services.escalation, channel),
    )
    sender = TeamsReminderSender(adapter, settings.app_id, case_store, transcripts, tickets, channel, reminder_desk, clock)
    scheduler = ReminderScheduler(
        reminder_desk.store, sender, clock, settings.reminder_poll_seconds, lookback_days=settings.retention_days
    )
    return Assembly(settings, documents, adapter, services, bot, scheduler)


def serve(assembly: Assembly) -> web.Application:
    """The aiohttp application for an assembly, with its background jobs."""
    settings, documents, services = assembly.settings, assembly.documents, assembly.services
    app = create_app(assembly.adapter, assembly.bot, settings.max_body_bytes)

    async def housekeeping(_app: web.Application):
        tasks = [
            asyncio.create_task(run_forever(documents, settings.retention_days)),
            asyncio.create_task(every(settings.ticket_retry_seconds, services.escalation.retry_pending)),
        ]
        if assembly.reminders is not None:
            assembly.reminders.start()  # its first round sends what came due while the bot was down
        yield
        if assembly.reminders is not None:
            await assembly.reminders.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await documents.close()
        await assembly.adapter.sender.close()
        if isinstance(services.graph, GraphClient):
            await services.graph.close()

    app.cleanup_ctx.append(housekeeping)
    return app


def build(settings: Settings, credentials_factory=None) -> web.Application:
    return serve(assemble(settings, credentials_factory))


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
    check_exposure(settings)
    if not settings.auth_enabled:
        log.info("no MicrosoftAppId: authentication off, listening on %s only (local use)", settings.bind_host)
    app = build(settings)
    log.info("bot listening on http://%s:%d/api/messages (state: %s)", settings.bind_host, settings.port, settings.state_store)
    web.run_app(app, host=settings.bind_host, port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
