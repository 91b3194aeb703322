"""Composition root: settings from the environment, then the adapter, state, bot and web server.

`python app.py` runs the bot. With no MicrosoftAppId it listens on 127.0.0.1 only, with
authentication off, for local tools such as the Microsoft 365 Agents Playground.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys

from aiohttp import web

from bot.access import AccessGate
from bot.adapter import create_adapter
from bot.bot_storage import DocumentStorage
from bot.escalation import Escalation
from bot.graph import GraphClient, RoleCheck
from bot.housekeeping import every, run_forever
from bot.outgoing import CardIds
from bot.playbook import DEFAULT_PATH, load_playbook
from bot.server import create_app
from bot.services import Services
from bot.settings import Settings
from bot.state import JsonConversationState, JsonUserState
from bot.storage import DocumentStore, MemoryDocumentStore, SqliteDocumentStore
from bot.support_channel import ChannelAddress, SupportDesk, TeamsSupportChannel
from bot.teams_bot import RecoveryBot
from bot.tickets import TicketStore
from bot.transcript import TranscriptStore
from dialogs.main_dialog import MainDialog

log = logging.getLogger("mailbox_recovery")
SERVICES = web.AppKey("services", Services)


class StartupRefused(SystemExit):
    pass


def create_documents(settings: Settings) -> DocumentStore:
    if settings.state_store == "sqlite":
        return SqliteDocumentStore(settings.sqlite_path)
    if settings.state_store == "blob":
        from bot.storage.blob_store import BlobDocumentStore, managed_identity_credential

        if settings.blob_account_url:
            credential = managed_identity_credential(settings.azure_client_id)
            return BlobDocumentStore("", settings.blob_container, account_url=settings.blob_account_url, credential=credential)
        if not settings.blob_connection_string:
            raise StartupRefused("STATE_STORE=blob needs BLOB_ACCOUNT_URL (with a managed identity) or BLOB_CONNECTION_STRING")
        return BlobDocumentStore(settings.blob_connection_string, settings.blob_container)
    if settings.state_store == "memory":
        if settings.auth_enabled:
            raise StartupRefused("STATE_STORE=memory loses every case on restart; it is for tests, not a registered bot")
        return MemoryDocumentStore()
    raise StartupRefused(f"STATE_STORE must be sqlite, blob or memory, not {settings.state_store!r}")


def build(settings: Settings, credentials_factory=None) -> web.Application:
    """Everything wired together; nothing is built at import time."""
    mixed = settings.mixed_credentials()
    if mixed:
        raise StartupRefused("A secret and a managed identity for the same service: " + "; ".join(mixed))
    playbook = load_playbook(settings.playbook_path or DEFAULT_PATH)
    documents = create_documents(settings)
    storage = DocumentStorage(documents)
    transcripts = TranscriptStore(documents)
    services = Services(playbook)
    services.escalation = Escalation(playbook, transcripts)
    services.card_ids = CardIds(documents)
    adapter = create_adapter(settings, credentials_factory)
    configured = (
        ChannelAddress(settings.support_channel_id, settings.support_service_url, settings.support_tenant_id)
        if settings.support_channel_id and settings.support_service_url
        else None
    )
    channel = TeamsSupportChannel(adapter, settings.app_id, TicketStore(documents), transcripts, documents, configured)
    services.support = SupportDesk(services.escalation, channel, settings.handoff_enabled)
    if (settings.graph_require_admin_role or settings.allowed_admin_group) and settings.graph is None:
        raise StartupRefused(
            "GRAPH_REQUIRE_ADMIN_ROLE and ALLOWED_ADMIN_GROUP need Microsoft Graph: "
            "set GRAPH_USE_MANAGED_IDENTITY=true or GRAPH_CLIENT_ID too"
        )
    if settings.graph is not None:
        if not settings.graph.use_managed_identity and not settings.graph.tenant_id:
            raise StartupRefused("GRAPH_CLIENT_ID is set: GRAPH_TENANT_ID (or MicrosoftAppTenantId) is needed too")
        services.graph = GraphClient(settings.graph)
    bot = RecoveryBot(
        services,
        MainDialog(services),
        JsonConversationState(storage),
        JsonUserState(storage),
        transcripts,
        documents,
        retention_days=settings.retention_days,
        gate=AccessGate(settings.tenants_allowed, settings.allowed_admins, settings.turns_per_minute),
        role_check=RoleCheck(services.graph, settings.graph_require_admin_role, settings.allowed_admin_group)
        if services.graph and (settings.graph_require_admin_role or settings.allowed_admin_group)
        else None,
    )
    app = create_app(adapter, bot, settings.max_body_bytes)
    app[SERVICES] = services

    async def housekeeping(_app: web.Application):
        tasks = [
            asyncio.create_task(run_forever(documents, settings.retention_days)),
            asyncio.create_task(every(settings.ticket_retry_seconds, channel.retry_pending)),
        ]
        yield
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await documents.close()
        await adapter.sender.close()
        if services.graph is not None:
            await services.graph.close()

    app.cleanup_ctx.append(housekeeping)
    return app


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
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    check_exposure(settings)
    if not settings.auth_enabled:
        log.info("no MicrosoftAppId: authentication off, listening on %s only (local use)", settings.bind_host)
    app = build(settings)
    log.info("bot listening on http://%s:%d/api/messages (state: %s)", settings.bind_host, settings.port, settings.state_store)
    web.run_app(app, host=settings.bind_host, port=settings.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
