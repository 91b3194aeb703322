"""Sending to the admin, and writing what was sent into the case transcript at the same place.

`say` and `show` name the case a message concerns (None for messages about no single case, such
as the case list or help), so the transcript is written where messages are sent, never by
re-reading outgoing activities afterwards.
"""

from __future__ import annotations

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity, ResourceResponse

from bot.support.transcript import TurnTranscript, card_text
from bot.turn.turn_state import TRANSCRIPT_KEY


def card_activity(content: dict) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(content))


def _record(context: TurnContext, case_id: str | None, text: str) -> None:
    transcript: TurnTranscript | None = context.turn_state.get(TRANSCRIPT_KEY)
    if transcript is not None:
        transcript.said(case_id, text)


async def say(context: TurnContext, text: str, case_id: str | None = None) -> ResourceResponse | None:
    response = await context.send_activity(MessageFactory.text(text))
    _record(context, case_id, text)
    return response


async def show(context: TurnContext, content: dict, case_id: str | None = None) -> ResourceResponse | None:
    response = await context.send_activity(card_activity(content))
    _record(context, case_id, card_text(content))
    return response


async def replace(context: TurnContext, card_id: str | None, content: dict, case_id: str | None = None) -> None:
    """Update a card in place (a provisional id from a buffered turn is resolved by the adapter).
    The update is the same card answered, so the transcript gets only what was added to it."""
    if not card_id:
        return
    activity = card_activity(content)
    activity.id = card_id
    await context.update_activity(activity)


async def refresh(context: TurnContext, card_id: str, content: dict, case_id: str | None = None) -> None:
    """Show a card again by updating it in place (resume, the dialect switch, a validation note):
    one live card per case instead of a new copy; the transcript records what it now shows."""
    activity = card_activity(content)
    activity.id = card_id
    await context.update_activity(activity)
    _record(context, case_id, card_text(content))
