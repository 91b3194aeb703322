"""Counters a person running the bot wants to see (on /healthz), and the outcome of the current
turn for its log line. Per process; nothing here identifies anyone."""

from __future__ import annotations

from collections import Counter
from contextvars import ContextVar

counters: Counter[str] = Counter()
turn_outcome: ContextVar[str] = ContextVar("turn_outcome", default="ok")


def count(name: str) -> None:
    counters[name] += 1


def set_outcome(outcome: str) -> None:
    turn_outcome.set(outcome)
