"""Where state lives: a small async document store with e_tags, in SQLite (embedded default),
Azure Blob Storage (several instances) or memory (unit tests). Plain Python; `bot_storage`
adapts any of them to botbuilder's Storage interface."""

from bot.storage.documents import Conflict, DocumentStore, MemoryDocumentStore, StoreUnavailable, TooManyConflicts
from bot.storage.sqlite_store import SqliteDocumentStore

__all__ = ["Conflict", "DocumentStore", "MemoryDocumentStore", "SqliteDocumentStore", "StoreUnavailable", "TooManyConflicts"]
