"""What an admin types to ask for a reminder: 'remind me in 2 hours'."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.playbook import InvalidValue

MAX_REMIND_IN = timedelta(days=30)

_REMIND_ME = re.compile(r"^remind me in (\d+(?:\.\d+)?|an?|one|two|three) ?(minutes?|mins?|m|hours?|hrs?|h|days?|d)$")
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3}


def parse_remind_me(said: str) -> timedelta:
    """'remind me in 2 hours' -> 2 hours; raises InvalidValue with what works."""
    match = _REMIND_ME.match(" ".join(said.lower().split()).rstrip(".!"))
    if not match:
        raise InvalidValue("Say for example 'remind me in 30 minutes', 'remind me in 2 hours' or 'remind me in 1 day'.")
    amount = _WORDS.get(match.group(1)) or float(match.group(1))
    minutes = amount * {"m": 1, "h": 60, "d": 1440}[match.group(2)[0]]
    # Compared as a number first: "remind me in 1000000000 days" is refused, not an overflow.
    if minutes < 1 or minutes > MAX_REMIND_IN.total_seconds() / 60:
        raise InvalidValue("I can remind you from 1 minute to 30 days from now.")
    return timedelta(minutes=minutes)
