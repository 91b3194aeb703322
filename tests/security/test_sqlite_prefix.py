"""Issue 25, SQLite prefix item: `read_prefix` and `purge` took the keys in [prefix, prefix+U+FFFF),
so a key with a character beyond the Basic Multilingual Plane right after the prefix (an emoji in
a conversation id Teams or a caller chose) was never read back nor purged: a record the retention
never removes. The range now covers every key that starts with the prefix."""

from __future__ import annotations

import sqlite3
import uuid

from bot.storage import SqliteDocumentStore
from bot.storage.housekeeping import purge_once
from bot.storage.sqlite_store import prefix_range
from tests.harness import Admin

INSIDE = ("transcripts/\U0001f600-a", "transcripts/\U0010ffff-b", "transcripts/\uffff-c", "transcripts/", "transcripts/a")
OUTSIDE = ("transcripts0", "transcriptsX", "transcript", "\U0001f600-top", "tickets/\U0001f600")


async def test_every_key_that_starts_with_the_prefix_is_read_and_purged(tmp_path):
    store = SqliteDocumentStore(tmp_path / "s.sqlite3")
    for key in INSIDE + OUTSIDE:
        await store.write(key, {"k": key}, None)
    assert set(await store.read_prefix("transcripts/")) == set(INSIDE)
    assert set(await store.read_prefix("")) == set(INSIDE + OUTSIDE)
    assert set(await store.read_prefix("\U0001f600")) == {"\U0001f600-top"}
    assert await store.purge("transcripts/", older_than=10**12) == len(INSIDE)
    assert set(await store.read_prefix("")) == set(OUTSIDE)
    assert await store.purge("", older_than=10**12) == len(OUTSIDE)
    await store.close()


def test_the_range_ends_just_past_the_prefix():
    assert prefix_range("a/") == ("a/", "a0")
    assert prefix_range("x\U0010ffff") == ("x\U0010ffff", "y")
    assert prefix_range("\ud7ff") == ("\ud7ff", "\ue000")  # never a surrogate
    assert prefix_range("") == ("", None)


async def test_an_activity_record_of_a_conversation_named_with_an_emoji_is_purged(bot, connector, settings):
    admin = Admin(bot.url, connector, conversation_id="\U0001f600" + uuid.uuid4().hex)
    await admin.say("help")
    await admin.close()
    store = SqliteDocumentStore(settings.sqlite_path)
    assert len(await store.read_prefix("activities/")) == 1
    await purge_once(store, retention_days=30, dedupe_seconds=-60)  # a day later, as housekeeping sees it
    await store.close()
    with sqlite3.connect(settings.sqlite_path) as db:  # every row, not what the store's ranges find
        assert [key for (key,) in db.execute("SELECT key FROM documents") if key.startswith("activities/")] == []
