"""The embedded default: one SQLite file in WAL mode.

All SQLite work runs on one dedicated thread, so the event loop never waits on the disk and the
connection is never shared between threads. Each write is its own transaction: a process killed
at any moment leaves every document either before or after a write, never half-written.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.storage.documents import Conflict, DocumentStore, StoreUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY,
    etag INTEGER NOT NULL,
    body TEXT NOT NULL,
    written REAL NOT NULL
)
"""


class SqliteDocumentStore(DocumentStore):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe against a killed process
            connection.execute("PRAGMA busy_timeout=10000")
            connection.execute(_SCHEMA)
            self._connection = connection
        return self._connection

    async def _run(self, function, *args):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except sqlite3.OperationalError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def read(self, keys):
        keys = list(keys)
        if not keys:
            return {}

        def read_rows():
            marks = ",".join("?" * len(keys))
            rows = self._connect().execute(f"SELECT key, etag, body FROM documents WHERE key IN ({marks})", keys)
            return {key: (json.loads(body), str(etag)) for key, etag, body in rows}

        return await self._run(read_rows)

    async def write(self, key, document, e_tag):
        body = json.dumps(document, separators=(",", ":"), ensure_ascii=False)

        def write_row():
            db = self._connect()
            now = time.time()
            if e_tag is None:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO documents (key, etag, body, written) VALUES (?, 1, ?, ?)", (key, body, now)
                )
                if cursor.rowcount != 1:
                    raise Conflict(key)
                return "1"
            if e_tag == "*":
                row = db.execute(
                    "INSERT INTO documents (key, etag, body, written) VALUES (?, 1, ?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET etag = etag + 1, body = excluded.body, written = excluded.written "
                    "RETURNING etag",
                    (key, body, now),
                ).fetchone()
                return str(row[0])
            if not str(e_tag).isdigit():
                raise Conflict(key)
            row = db.execute(
                "UPDATE documents SET etag = etag + 1, body = ?, written = ? WHERE key = ? AND etag = ? RETURNING etag",
                (body, now, key, int(e_tag)),
            ).fetchone()
            if row is None:
                raise Conflict(key)
            return str(row[0])

        return await self._run(write_row)

    async def delete(self, keys):
        keys = list(keys)

        def delete_rows():
            self._connect().executemany("DELETE FROM documents WHERE key = ?", [(k,) for k in keys])

        await self._run(delete_rows)

    async def read_prefix(self, prefix):
        def read_rows():
            rows = self._connect().execute(
                "SELECT key, body FROM documents WHERE key >= ? AND key < ? ORDER BY key", (prefix, prefix + "\uffff")
            )
            return {key: json.loads(body) for key, body in rows}

        return await self._run(read_rows)

    async def purge(self, prefix, older_than):
        def purge_rows():
            cursor = self._connect().execute(
                "DELETE FROM documents WHERE key >= ? AND key < ? AND written < ?", (prefix, prefix + "\uffff", older_than)
            )
            return cursor.rowcount

        return await self._run(purge_rows)

    async def close(self):
        def close_connection():
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await self._run(close_connection)
        self._executor.shutdown(wait=True)
