"""Who may use the bot, and how fast: tenant allow-list, admin allow-list, per-user rate limit.

Plain Python. The bot asks `check` before it reads or writes anything for the turn, so a refused
request leaves no trace but a counter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MESSAGES = {
    "foreign-tenant": "Sorry, this bot serves only its own organisation's tenant, so I cannot help here.",
    "not-admin": (
        "This bot is for the tenant's Exchange administrators. If you need a mailbox recovered, "
        "ask your IT administrator; if you are one, ask them to add you to the bot's allowed admins."
    ),
    "rate-limited": "You are sending messages faster than I can help. Please wait a few seconds and try again.",
}


@dataclass
class TokenBucket:
    capacity: float
    per_second: float
    tokens: float = 0.0
    updated: float = field(default_factory=time.monotonic)

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class AccessGate:
    def __init__(
        self,
        allowed_tenants: tuple[str, ...] = (),
        allowed_admins: tuple[str, ...] = (),
        turns_per_minute: int = 60,
        burst: int = 20,
        max_tracked: int = 50_000,
    ) -> None:
        self.allowed_tenants = {t.lower() for t in allowed_tenants}
        self.allowed_admins = {a.lower() for a in allowed_admins}
        self.turns_per_minute = turns_per_minute
        self.burst = burst
        self.max_tracked = max_tracked
        self._buckets: dict[str, TokenBucket] = {}

    def check(self, tenant_id: str, user_id: str, aad_object_id: str, now: float | None = None) -> str | None:
        """None when the turn may go ahead, else the reason it may not."""
        if self.allowed_tenants and (tenant_id or "").lower() not in self.allowed_tenants:
            return "foreign-tenant"
        if self.allowed_admins and (aad_object_id or "").lower() not in self.allowed_admins:
            return "not-admin"
        now = time.monotonic() if now is None else now
        if self.turns_per_minute and not self._bucket(user_id, now).take(now):
            return "rate-limited"
        return None

    def _bucket(self, user_id: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_tracked:  # bounded memory: forget the idlest users
                for stale in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[: self.max_tracked // 10]:
                    del self._buckets[stale]
            bucket = TokenBucket(self.burst, self.turns_per_minute / 60.0, tokens=self.burst, updated=now)
            self._buckets[user_id] = bucket
        return bucket
