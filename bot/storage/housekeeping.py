"""Purges what is kept only for a while, prefix by prefix as bot.storage.keys lists them:
processed-activity records after a day, cases, transcripts, tickets and conversation state after
the retention (30 days by default, the recycle bin's), counters of a day after two."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from bot.storage import DocumentStore, StoreUnavailable
from bot.storage.keys import CASES, DAY, REGISTRY

log = logging.getLogger(__name__)
CASES_GRACE = CASES.grace_seconds


def retention_cutoff_iso(retention_days: int, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return (now - timedelta(days=retention_days)).isoformat(timespec="milliseconds")


async def purge_once(documents: DocumentStore, retention_days: int, dedupe_seconds: float = DAY) -> dict[str, int]:
    """One round over every registered prefix that is purged by age; how many went, by prefix."""
    now = time.time()
    counts = {}
    for space in REGISTRY:
        cutoff = space.cutoff(now, retention_days, dedupe_seconds)
        if cutoff is not None:
            counts[space.prefix] = await documents.purge(space.prefix, cutoff)
    return counts


async def run_forever(documents: DocumentStore, retention_days: int, every_seconds: float = 3600.0) -> None:
    while True:
        try:
            counts = await purge_once(documents, retention_days)
            if any(counts.values()):
                log.info("housekeeping purged %s", counts)
        except StoreUnavailable as exc:
            log.warning("housekeeping skipped: %s", exc)
        except Exception:  # housekeeping must never stop the bot
            log.exception("housekeeping failed")
        await asyncio.sleep(every_seconds)


async def every(seconds: float, job) -> None:
    """Run job() every `seconds`, forever; a failing round is logged and the next one runs."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception:  # a background job must never stop the bot
            log.exception("background job %s failed", getattr(job, "__name__", job))
