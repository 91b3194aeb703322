"""Retrying calls to the Bot Connector: 429 and 5xx with exponential backoff and full jitter."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)
RETRY_STATUSES = {412, 429, 500, 502, 503, 504}


def status_of(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    for candidate in (getattr(response, "status_code", None), getattr(response, "status", None), getattr(error, "status", None)):
        if isinstance(candidate, int):
            return candidate
    return None


async def with_retries(call: Callable[[], Awaitable[Any]], attempts: int = 5, base_delay: float = 0.25) -> Any:
    """Retry throttling and server errors with exponential backoff and full jitter."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as exc:
            status = status_of(exc)
            if attempt == attempts or (status is not None and status not in RETRY_STATUSES):
                raise
            if status is None and not isinstance(exc, (OSError, asyncio.TimeoutError)):
                raise
            delay = random.uniform(0, base_delay * 2 ** (attempt - 1))
            log.info("connector call failed with %s; retrying in %.2f s", status or type(exc).__name__, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
