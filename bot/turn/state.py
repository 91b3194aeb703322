"""Conversation state whose change check is a JSON dump, not jsonpickle.

The SDK's BotState fingerprints the whole state with jsonpickle at load and again at save to
know whether to write; profiling showed that as the largest cost of a turn once the outbound
path was fixed. State here is plain JSON through bot_storage's codec, so the fingerprint is the
codec's JSON, made by the C encoder. Keys and behaviour are the SDK's ConversationState
otherwise. (Cases are not Bot Framework state at all: bot.walkthrough.case_store keeps them.)
"""

from __future__ import annotations

import json

from botbuilder.core import BotState, ConversationState, TurnContext

from bot.turn.bot_storage import encode


def fingerprint(state: object) -> str:
    return json.dumps(encode(state), separators=(",", ":"), sort_keys=True)


class _CachedState:
    def __init__(self, state: dict | None = None) -> None:
        self.state = state if state is not None else {}
        self.hash = fingerprint(self.state)

    @property
    def is_changed(self) -> bool:
        return self.hash != fingerprint(self.state)

    def compute_hash(self, obj: object) -> str:
        return fingerprint(obj)


class _JsonStateMixin(BotState):
    """BotState's load and save, on the JSON documents above (mixed in before the SDK's class)."""

    async def load(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if force or not cached or not cached.state:
            key = self.get_storage_key(turn_context)
            items = await self._storage.read([key])
            turn_context.turn_state[self._context_service_key] = _CachedState(items.get(key))

    async def save_changes(self, turn_context: TurnContext, force: bool = False) -> None:
        cached = self.get_cached_state(turn_context)
        if cached is None:
            return
        current = fingerprint(cached.state)
        if force or current != cached.hash:
            await self._storage.write({self.get_storage_key(turn_context): cached.state})
            cached.hash = current


class JsonConversationState(_JsonStateMixin, ConversationState):
    pass
