"""The embedded default: one SQLite file in WAL mode.

All SQLite work runs on one dedicated thread, so the event loop never waits on the disk and the
connection is never shared between threads. Work is handed over in batches (group commit): what
the turns ask for while a batch runs goes as the next batch, its writes in one transaction. A
hand-over between threads costs several times the SQLite work itself, so under load a batch
costs one hand-over, not one per document. A write is acknowledged only once its batch has
committed; each write is all or nothing (a savepoint), and one that fails, fails alone. Only
when SQLite gives up the whole transaction (a full disk can make it) does every job of the
batch fail, and nothing of it is kept. A store serves one event loop at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.storage.documents import Conflict, DocumentStore, StoreUnavailable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY,
    etag INTEGER NOT NULL,
    body TEXT NOT NULL,
    written REAL NOT NULL
)
"""


def prefix_range(prefix: str) -> tuple[str, str | None]:
    """(low, high) such that exactly the keys starting with `prefix` sort in [low, high) as SQLite
    compares text (UTF-8 bytes, which order as code points): the prefix with its last character
    moved up by one (a character past U+FFFF sorts above '\uffff', so that was no bound). None:
    no high end (the prefix is '', or only U+10FFFF)."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code <= 0x10FFFF:
            chars.append(chr(0xE000 if 0xD800 <= code <= 0xDFFF else code))  # no surrogates in UTF-8
            return prefix, "".join(chars)
    return prefix, None


def _in_prefix(prefix: str) -> tuple[str, tuple[str, ...]]:
    """The WHERE clause (and its parameters) for the keys that start with `prefix`."""
    low, high = prefix_range(prefix)
    return ("key >= ? AND key < ?", (low, high)) if high is not None else ("key >= ?", (low,))


@dataclass
class _Job:
    work: Callable[[], Any]
    writes: bool
    future: asyncio.Future
    outcome: tuple[bool, Any] = field(default=(False, None))  # (succeeded, result or exception)


class SqliteDocumentStore(DocumentStore):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-store")
        self._connection: sqlite3.Connection | None = None
        # Touched on the event loop only: the jobs waiting for the next batch, and the loop
        # whose batch is on the SQLite thread now (None when none is).
        self._waiting: list[_Job] = []
        self._batch_loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

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

    async def _run(self, work: Callable[[], Any], writes: bool = False, *, draining: bool = False) -> Any:
        if self._closed and not draining:
            raise StoreUnavailable("the state store is closed (the bot is stopping)")
        loop = asyncio.get_running_loop()
        if self._batch_loop is not None and self._batch_loop.is_closed():
            self._batch_loop, self._waiting = None, []  # a test's loop ended mid-batch
        job = _Job(work, writes, loop.create_future())
        self._waiting.append(job)
        if self._batch_loop is None:
            self._start_batch(loop)
        succeeded, result = await job.future
        if succeeded:
            return result
        if isinstance(result, sqlite3.Error | StoreUnavailable):  # a new one per job: batch-mates share the cause
            raise StoreUnavailable(str(result)) from result
        raise result

    def _start_batch(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = [job for job in self._waiting if not job.future.done()]  # a cancelled caller's job never runs
        self._waiting = []
        if not batch:
            return
        self._batch_loop = loop
        try:
            done = loop.run_in_executor(self._executor, self._run_batch, batch)
        except RuntimeError as exc:  # the thread pool is shut down: fail the batch, never hang it
            self._batch_loop = None
            for job in batch:
                job.future.set_result((False, StoreUnavailable(str(exc))))
            return
        done.add_done_callback(lambda finished: self._batch_done(loop, batch, finished))

    def _batch_done(self, loop: asyncio.AbstractEventLoop, batch: list[_Job], finished: asyncio.Future) -> None:
        failure = asyncio.CancelledError() if finished.cancelled() else finished.exception()  # the batch itself broke
        for job in batch:
            if not job.future.done():
                job.future.set_result(
                    (False, StoreUnavailable(f"the state store failed: {failure!r}")) if failure else job.outcome
                )
        self._batch_loop = None
        if self._waiting:
            self._start_batch(loop)

    def _run_batch(self, batch: list[_Job]) -> None:
        """On the SQLite thread: every job in order, the writes in one transaction."""
        writing = any(job.writes for job in batch)
        try:
            db = self._connect()
            if writing:
                db.execute("BEGIN IMMEDIATE")
            for job in batch:
                self._run_job(db, job, writing)
            if writing:
                db.execute("COMMIT")
        except sqlite3.Error as exc:  # SQLite gave up the transaction: nothing of the batch is kept
            for job in batch:
                job.outcome = (False, exc)
        finally:
            if writing and self._connection is not None and self._connection.in_transaction:
                try:
                    self._connection.execute("ROLLBACK")
                except sqlite3.Error:  # the connection itself is broken: the next batch reconnects
                    self._connection.close()
                    self._connection = None

    @staticmethod
    def _run_job(db: sqlite3.Connection, job: _Job, writing: bool) -> None:
        """One job; a write inside its own savepoint, so that it is kept whole or not at all."""
        if job.writes:
            db.execute("SAVEPOINT job")
        try:
            job.outcome = (True, job.work())
        except Exception as exc:  # a Conflict, a row that will not decode: this job's failure alone
            if isinstance(exc, sqlite3.Error) and writing and not db.in_transaction:
                raise  # SQLite rolled the whole transaction back (a full disk can): the batch fails
            if job.writes:
                db.execute("ROLLBACK TO job")
            job.outcome = (False, exc)
        if job.writes:
            db.execute("RELEASE job")

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

        return await self._run(write_row, writes=True)

    async def delete(self, keys):
        keys = list(keys)

        def delete_rows():
            self._connect().executemany("DELETE FROM documents WHERE key = ?", [(k,) for k in keys])

        await self._run(delete_rows, writes=True)

    async def read_prefix(self, prefix):
        def read_rows():
            where, bounds = _in_prefix(prefix)
            rows = self._connect().execute(f"SELECT key, body FROM documents WHERE {where} ORDER BY key", bounds)
            return {key: json.loads(body) for key, body in rows}

        return await self._run(read_rows)

    async def purge(self, prefix, older_than):
        def purge_rows():
            where, bounds = _in_prefix(prefix)
            cursor = self._connect().execute(f"DELETE FROM documents WHERE {where} AND written < ?", (*bounds, older_than))
            return cursor.rowcount

        return await self._run(purge_rows, writes=True)

    async def size(self):
        def file_bytes():
            db = self._connect()
            pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
            wal = Path(self.path + "-wal")
            return pages + (wal.stat().st_size if self.path != ":memory:" and wal.exists() else 0)

        return await self._run(file_bytes)

    async def close(self):
        if self._closed:
            return
        self._closed = True  # from here new work is refused; what is already waiting still runs
        with contextlib.suppress(StoreUnavailable):  # the last batch failed (its callers were told): close anyway
            await self._run(lambda: None, draining=True)

        def close_connection():
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await asyncio.get_running_loop().run_in_executor(self._executor, close_connection)
        self._executor.shutdown(wait=True)
