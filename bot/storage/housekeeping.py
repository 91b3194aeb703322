"""Purges what is kept only for a while: processed-activity records after a day, cases,
transcripts and conversation state after the retention (30 days by default, the recycle bin's)."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from bot.storage import DocumentStore, StoreUnavailable

log = logging.getLogger(__name__)
DAY = 86_400.0
# An admin's case index is rewritten at least hourly while they work, their current case every
# turn (bot.walkthrough.case_store): cases/ is kept two hours longer, so that no index still in
# use is purged before the case it lists.
CASES_GRACE = 2 * 3600.0


def retention_cutoff_iso(retention_days: int, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return (now - timedelta(days=retention_days)).isoformat(timespec="milliseconds")


async def purge_once(documents: DocumentStore, retention_days: int, dedupe_seconds: float = DAY) -> dict[str, int]:
    now = time.time()
    retention = retention_days * DAY
    counts = {"activities/": await documents.purge("activities/", now - dedupe_seconds)}
    for prefix in ("transcripts/", "cardids/", "state/", "tickets/", "cases/", "ticket-quota/", "reminders/"):
        counts[prefix] = await documents.purge(prefix, now - retention - (CASES_GRACE if prefix == "cases/" else 0.0))
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
