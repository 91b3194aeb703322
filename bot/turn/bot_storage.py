"""botbuilder's Storage interface over a DocumentStore, with e_tags and plain JSON.

The dialog stack holds DialogState / DialogInstance objects; they are written as small tagged
JSON objects from a fixed list (never class paths, never jsonpickle), so a stored state can be
read by any version of the bot and by a person. Anything else that is not JSON is a bug and is
refused at write time.
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import Storage
from botbuilder.dialogs import DialogInstance, DialogState

from bot.storage import DocumentStore

TYPE_TAG = "$type"


def encode(value: Any) -> Any:
    if isinstance(value, DialogState):
        return {TYPE_TAG: "DialogState", "stack": [encode(i) for i in value.dialog_stack]}
    if isinstance(value, DialogInstance):
        return {TYPE_TAG: "DialogInstance", "id": value.id, "state": encode(value.state)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in bot state")


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        tag = value.get(TYPE_TAG)
        if tag == "DialogState":
            return DialogState([decode(i) for i in value.get("stack", [])])
        if tag == "DialogInstance":
            instance = DialogInstance(id=value.get("id"), state=decode(value.get("state", {})))
            return instance
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


class DocumentStorage(Storage):
    def __init__(self, documents: DocumentStore, prefix: str = "state/") -> None:
        super().__init__()
        self.documents = documents
        self.prefix = prefix

    async def read(self, keys: list[str]) -> dict[str, object]:
        found = await self.documents.read(self.prefix + k for k in keys)
        result = {}
        for key in keys:
            if self.prefix + key in found:
                document, e_tag = found[self.prefix + key]
                state = decode(document)
                state["e_tag"] = e_tag
                result[key] = state
        return result

    async def write(self, changes: dict[str, object]) -> None:
        for key, change in changes.items():
            state = dict(change) if isinstance(change, dict) else dict(vars(change))
            e_tag = state.pop("e_tag", None)
            await self.documents.write(self.prefix + key, encode(state), e_tag or None)

    async def delete(self, keys: list[str]) -> None:
        await self.documents.delete(self.prefix + k for k in keys)
