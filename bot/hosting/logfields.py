"""Request fields fit for a log line: whatever a caller sent, one short line, no control characters
(a newline in an id would forge a line; a 240 KB id would make a 240 KB one)."""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_CHARS = 80


def log_field(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    return _CONTROL.sub("?", text[: MAX_CHARS + 1])[:MAX_CHARS]
