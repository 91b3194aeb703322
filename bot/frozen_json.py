"""JSON built once and never changed afterwards (Adaptive Cards): the outbound path sends it as it is.

Lives apart from the card builders so that the transport (bot.hosting.connector) does not depend on them.
"""

from __future__ import annotations


class FrozenJson(dict):
    """A plain JSON dict, treated as immutable once built. Copying it is skipped (the SDK
    deep-copies every outgoing activity), as is re-walking it for the wire."""

    def __deepcopy__(self, memo: dict) -> FrozenJson:
        return self
