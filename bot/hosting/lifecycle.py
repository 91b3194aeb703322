"""Readiness and graceful shutdown, plain asyncio.

- Readiness: probes (the store answers, the playbook loaded) give the reasons /readyz reports.
- Shutdown (SIGTERM): stop taking turns (503 with Retry-After, so the platform retries on another
  instance), let the turns in flight finish within a bound, then run every registered drain
  (tickets being delivered, and any other background sender: `on_shutdown`), each bounded too.
  Closing the store is left to the app's cleanup, which runs after this.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator

log = logging.getLogger(__name__)
Probe = Callable[[], Awaitable[str | None]]  # None when fine, else the reason, for a person
Drain = Callable[[], Awaitable[object]]


class Lifecycle:
    def __init__(self, turn_grace_seconds: float = 10.0, drain_seconds: float = 10.0) -> None:
        self.turn_grace_seconds = turn_grace_seconds
        self.drain_seconds = drain_seconds
        self.draining = False
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._probes: list[Probe] = []
        self._drains: list[tuple[str, Drain]] = []
        self.details: dict[str, object] = {}  # figures /readyz shows when ready (the store's size)

    def add_probe(self, probe: Probe) -> None:
        self._probes.append(probe)

    def on_shutdown(self, name: str, drain: Drain) -> None:
        """Run `drain()` when the process is asked to stop, after the turns in flight ended."""
        self._drains.append((name, drain))

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def not_ready(self) -> list[str]:
        if self.draining:
            return ["shutting down"]
        reasons = await asyncio.gather(*(probe() for probe in self._probes))
        return [reason for reason in reasons if reason]

    async def shut_down(self) -> None:
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), self.turn_grace_seconds)
        except TimeoutError:
            log.warning(
                "shutdown: %d turn(s) still running after %.0f s; stopping anyway", self._in_flight, self.turn_grace_seconds
            )
        for name, drain in self._drains:
            try:
                await asyncio.wait_for(drain(), self.drain_seconds)
            except TimeoutError:
                log.warning("shutdown: %s did not finish within %.0f s", name, self.drain_seconds)
            except Exception:  # one failing drain must not keep the others from running
                log.exception("shutdown: %s failed", name)


class Periodic:
    """job() every `seconds` on a task; `stop()` waits for a round in progress instead of
    cutting it off (a ticket half-posted would wait for its lease to lapse)."""

    def __init__(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        self.seconds = seconds
        self.job = job
        self._busy = asyncio.Lock()
        self._task: asyncio.Task | None = None

    def start(self) -> Periodic:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.seconds)
            async with self._busy:
                try:
                    await self.job()
                except Exception:  # a background job must never stop the bot
                    log.exception("background job %s failed", getattr(self.job, "__name__", self.job))

    async def stop(self) -> None:
        if self._task is None or self._task.done():
            return
        async with self._busy:  # between rounds: nothing is cut off
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
