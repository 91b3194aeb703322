"""The Bot Framework adapter and the turn error handler."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import ActivityTypes, CallerIdConstants, ResourceResponse
from botframework.connector.auth import AuthenticationConstants

from bot.hosting.connector import ConnectorSender, PooledBotFrameworkAuthentication
from bot.hosting.logfields import log_field
from bot.hosting.outgoing import SENDING, CardIds, OutgoingBuffer, is_provisional
from bot.metrics import OUTCOME_KEY, failed
from bot.retry import with_retries
from bot.settings import Settings
from bot.storage import Conflict, StoreUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _SdkConfig:
    """The attribute names the SDK's configuration classes read."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    # Set only with a custom OpenID metadata URL (a sovereign cloud, the tests): the SDK then
    # takes every endpoint from here, so the public cloud's are given too.
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None = None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None = None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None = None
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str | None = None
    OAUTH_URL: str | None = None
    CALLER_ID: str | None = None


OUTGOING_KEY = "mailbox_recovery.outgoing"


class BufferingCloudAdapter(CloudAdapter):
    """CloudAdapter whose replies wait in the turn's OutgoingBuffer, when it has one, until
    `flush` (after the state is saved), and leave through the lean ConnectorSender. A card sent
    by a buffered turn carries a provisional id until it is sent; updating it later, in this turn
    or another, works with that id: the adapter resolves it (CardIds keeps the real ids)."""

    def __init__(self, authentication, sender: ConnectorSender, card_ids: CardIds) -> None:
        super().__init__(authentication)
        self.sender = sender
        self.card_ids = card_ids

    def _credentials(self, context: TurnContext):
        client = context.turn_state.get(self.BOT_CONNECTOR_CLIENT_KEY)
        return client.config.credentials if client is not None else None

    async def send_activities(self, context: TurnContext, activities):
        buffer: OutgoingBuffer | None = context.turn_state.get(OUTGOING_KEY)
        if buffer is not None and not buffer.flushing:
            return [ResourceResponse(id=buffer.add_send(activity)) for activity in activities]
        return [await self._send_now(context, activity) for activity in activities]

    async def _send_now(self, context: TurnContext, activity) -> ResourceResponse:
        activity.id = None
        if activity.type == ActivityTypes.invoke_response:
            context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
            return ResourceResponse()
        if activity.type in (ActivityTypes.trace, "delay"):
            return ResourceResponse()
        credentials = self._credentials(context)
        return await with_retries(lambda: self.sender.send(activity, credentials))

    async def update_activity(self, context: TurnContext, activity):
        buffer: OutgoingBuffer | None = context.turn_state.get(OUTGOING_KEY)
        if buffer is not None and not buffer.flushing:
            buffer.add_update(activity)
            return ResourceResponse(id=activity.id)
        credentials = self._credentials(context)
        return await with_retries(lambda: self.sender.update(activity, credentials))

    async def flush(self, context: TurnContext, buffer: OutgoingBuffer) -> None:
        """Send what the turn held back, in order, and keep the real ids of the cards it sent."""
        buffer.flushing = True
        real: dict[str, str] = {}
        conversation_id = context.activity.conversation.id if context.activity.conversation else ""
        first_send = next((provisional for kind, _, provisional in buffer.operations if kind == "send"), None)
        if first_send:
            await self.card_ids.begin(conversation_id, first_send)
        for kind, activity, provisional in buffer.operations:
            if kind == "send":
                assert provisional is not None  # OutgoingBuffer.send gives every send its provisional id
                response = await self._send_now(context, activity)
                if response is not None and response.id:
                    real[provisional] = response.id
                continue
            if is_provisional(activity.id):
                resolved, fate = real.get(activity.id), ""
                if not resolved:
                    resolved, fate = await self.card_ids.resolve(conversation_id, activity.id)
                if not resolved:
                    await self._send_late(context, conversation_id, activity, fate)
                    continue
                activity.id = resolved
            try:
                await self.update_activity(context, activity)
            except Exception:  # an update that fails must not lose the rest of the turn's replies
                log.warning("could not update card %s in place", log_field(activity.id), exc_info=True)
        buffer.operations.clear()
        await self.card_ids.remember(conversation_id, real)

    async def _send_late(self, context: TurnContext, conversation_id: str, activity, fate: str) -> None:
        """An update of a card whose real id is not known. A card that never left (its turn saved
        the state and died before sending: Teams re-delivers the message and this re-run updates
        it) or whose turn died mid-send is sent now: a second copy is better than none. One that
        another instance is sending right now is left to it."""
        provisional = activity.id
        if fate == SENDING:
            log.info("card %s is being sent by another turn; not updated", log_field(provisional))
            return
        log.info("card %s %s; sending it now", log_field(provisional), fate)
        response = await self._send_now(context, activity)
        if response is not None and response.id:
            await self.card_ids.adopt(conversation_id, provisional, response.id)


def create_adapter(settings: Settings, card_ids: CardIds, credentials_factory=None) -> BufferingCloudAdapter:
    # Without an app id the SDK runs anonymous (local tools only); its SingleTenant factory would
    # refuse an empty id, so the local configuration is the anonymous one.
    app_type = settings.app_type if settings.auth_enabled else "MultiTenant"
    config = _SdkConfig(settings.app_id, settings.app_password, app_type, settings.app_tenant_id)
    if settings.openid_metadata_url:
        config = _SdkConfig(
            settings.app_id,
            settings.app_password,
            app_type,
            settings.app_tenant_id,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
            + (settings.app_tenant_id or AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT),
            TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
            OAUTH_URL=AuthenticationConstants.OAUTH_URL,
            CALLER_ID=CallerIdConstants.public_azure_channel,
        )
    # credentials_factory: only where Entra ID cannot be reached (the tests' loopback connector).
    authentication = ConfigurationBotFrameworkAuthentication(config, credentials_factory=credentials_factory)
    policy = settings.service_url_policy
    adapter = BufferingCloudAdapter(
        PooledBotFrameworkAuthentication(authentication, policy, settings.auth_enabled), ConnectorSender(policy), card_ids
    )
    adapter.on_turn_error = on_turn_error
    return adapter


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Log (activity id, never its content), tell the admin, keep every byte of state, and set
    the turn's outcome to the error (the SDK swallows the exception: the edge learns it here)."""
    slot = context.turn_state.get(OUTCOME_KEY)
    if isinstance(slot, dict):
        slot["outcome"] = failed(error)
    activity_id = log_field(context.activity.id) if context.activity else None
    if isinstance(error, StoreUnavailable):
        log.error("state store unavailable during activity %s: %s", activity_id, error)
        message = (
            "I cannot save your progress right now (the state store is not reachable), so I did not act on that. "
            "Please try again in a minute: your case is kept exactly as it was."
        )
    elif isinstance(error, Conflict):
        log.warning("concurrent update during activity %s", activity_id)
        message = "Another click was processed at the same moment and won; nothing was lost. Type 'status' to see where you are."
    else:
        log.error("turn failed for activity %s: %s", activity_id, type(error).__name__, exc_info=error)
        message = (
            "Something went wrong on my side. Your progress is kept: type 'status' to see where you are, "
            "try again, or type 'escalate' to hand the case to support."
        )
    try:
        await context.send_activity(MessageFactory.text(message))
    except Exception:  # noqa: BLE001 - the channel itself may be what failed
        log.warning("could not tell the admin about the error in activity %s", activity_id)
