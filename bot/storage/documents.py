"""The document store contract: JSON documents by key, each with an e_tag for optimistic
concurrency, an insert-if-absent used to process each incoming activity once, and `update`, the
one read-modify-write loop (re-read and re-applied when another writer got there first)."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from typing import Any

Document = dict[str, Any]
UPDATE_ATTEMPTS = 8  # a document changed under us this many times in a row: give up, clearly


class Conflict(Exception):
    """The document changed (or appeared) since it was read: someone else wrote first."""


class TooManyConflicts(Conflict):
    """`update` lost the race every time it tried: the document is too contended to change now."""


class StoreUnavailable(Exception):
    """The store cannot be reached right now; nothing was written."""


class DocumentStore(ABC):
    @abstractmethod
    async def read(self, keys: Iterable[str]) -> dict[str, tuple[Document, str]]:
        """Documents found, with their e_tags; missing keys are absent from the result."""

    @abstractmethod
    async def write(self, key: str, document: Document, e_tag: str | None) -> str:
        """Write and return the new e_tag. e_tag None: only if absent; "*": unconditionally;
        otherwise only if unchanged since that e_tag. Raises Conflict."""

    @abstractmethod
    async def delete(self, keys: Iterable[str]) -> None: ...

    async def insert_if_absent(self, key: str, document: Document) -> bool:
        """True if this call created the document, False if it already existed."""
        try:
            await self.write(key, document, None)
            return True
        except Conflict:
            return False

    async def update(
        self, key: str, change: Callable[[Document | None], Document | None], *, attempts: int = UPDATE_ATTEMPTS
    ) -> Document | None:
        """Read the document (None if absent), apply `change` to it and write what it returns,
        conditional on the e_tag read; when someone else wrote first, read again and re-apply.
        `change` returns None to write nothing (then the document as read is returned); it may
        run more than once, so it decides from its argument alone. Returns the document as
        written. Raises TooManyConflicts after `attempts` lost races."""
        for attempt in range(attempts):
            found = await self.read([key])
            current, e_tag = found.get(key, (None, None))
            new = change(current)
            if new is None:
                return current
            try:
                await self.write(key, new, e_tag)
                return new
            except Conflict:
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))  # let the other writer finish
        raise TooManyConflicts(f"{key} changed under {attempts} attempts in a row; nothing was written")

    @abstractmethod
    async def read_prefix(self, prefix: str) -> dict[str, Document]:
        """Every document whose key starts with prefix, by key."""

    @abstractmethod
    async def purge(self, prefix: str, older_than: float) -> int:
        """Delete documents under prefix last written before the epoch time; returns how many."""

    async def size(self) -> int | None:
        """Bytes the store takes (its file, its blobs), or None where that is not known."""
        return None

    async def close(self) -> None:
        return None


class MemoryDocumentStore(DocumentStore):
    """Per process, for unit tests only: returns copies, never live objects."""

    def __init__(self) -> None:
        self._docs: dict[str, tuple[Document, str, float]] = {}
        self._tags = itertools.count(1)

    async def read(self, keys):
        return {k: (copy.deepcopy(self._docs[k][0]), self._docs[k][1]) for k in keys if k in self._docs}

    async def write(self, key, document, e_tag):
        current = self._docs.get(key)
        if e_tag is None and current is not None:
            raise Conflict(key)
        if e_tag not in (None, "*") and (current is None or current[1] != e_tag):
            raise Conflict(key)
        tag = str(next(self._tags))
        self._docs[key] = (copy.deepcopy(document), tag, time.time())
        return tag

    async def delete(self, keys):
        for key in keys:
            self._docs.pop(key, None)

    async def read_prefix(self, prefix):
        return {k: copy.deepcopy(self._docs[k][0]) for k in sorted(self._docs) if k.startswith(prefix)}

    async def size(self):
        return sum(len(key) + len(json.dumps(document)) for key, (document, _, _) in self._docs.items())

    async def purge(self, prefix, older_than):
        gone = [k for k, (_, _, at) in self._docs.items() if k.startswith(prefix) and at < older_than]
        await self.delete(gone)
        return len(gone)
