"""Who may use the bot and how fast, with the clock passed in: allow-lists, the per-user token
bucket (bursts, refill, off at 0) and its bounded memory."""

from __future__ import annotations

from bot.turn.access import MESSAGES, AccessGate, TokenBucket

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def test_every_refusal_has_a_message_for_the_admin():
    assert set(MESSAGES) == {"foreign-tenant", "not-admin", "rate-limited"}
    assert all(message.strip() for message in MESSAGES.values())


def test_a_bucket_gives_its_tokens_then_refills_at_its_rate_up_to_its_capacity():
    bucket = TokenBucket(capacity=2, per_second=0.5, tokens=2, updated=100.0)
    assert [bucket.take(100.0) for _ in range(3)] == [True, True, False]
    assert not bucket.take(101.0), "half a token after one second"
    assert bucket.take(102.0)
    assert not bucket.take(102.0)
    assert [bucket.take(1_000.0) for _ in range(3)] == [True, True, False], "never more than its capacity"


def test_a_new_bucket_starts_empty():
    bucket = TokenBucket(capacity=5, per_second=1, updated=0.0)
    assert not bucket.take(0.0)
    assert bucket.take(1.0)


def test_without_allow_lists_everyone_may_talk():
    gate = AccessGate(turns_per_minute=0)
    assert gate.check("any-tenant", "u1", "any-admin") is None
    assert gate.check("", "", "") is None


def test_tenants_and_admins_are_matched_without_regard_to_case():
    gate = AccessGate(allowed_tenants=(TENANT.upper(),), allowed_admins=("AAAA-Admin",), turns_per_minute=0)
    assert gate.check(TENANT, "u1", "aaaa-admin") is None
    assert gate.check(TENANT.upper(), "u1", "AAAA-ADMIN") is None
    assert gate.check("other-tenant", "u1", "aaaa-admin") == "foreign-tenant"
    assert gate.check(None, "u1", "aaaa-admin") == "foreign-tenant"
    assert gate.check(TENANT, "u1", "someone-else") == "not-admin"
    assert gate.check(TENANT, "u1", None) == "not-admin"


def test_a_foreign_tenant_is_refused_before_the_admin_list_and_uses_no_turn():
    gate = AccessGate(allowed_tenants=(TENANT,), allowed_admins=("a1",), turns_per_minute=60, burst=1)
    assert gate.check("other", "u1", "nobody", now=0) == "foreign-tenant"
    assert gate.check(TENANT, "u1", "nobody", now=0) == "not-admin"
    assert gate.check(TENANT, "u1", "a1", now=0) is None, "refused turns did not use the burst"


def test_the_rate_limit_allows_a_burst_then_turns_per_minute_per_user():
    gate = AccessGate(turns_per_minute=60, burst=3)
    assert [gate.check(TENANT, "u1", "a", now=10.0) for _ in range(4)] == [None, None, None, "rate-limited"]
    assert gate.check(TENANT, "u2", "a", now=10.0) is None, "each user has their own bucket"
    assert gate.check(TENANT, "u1", "a", now=10.5) == "rate-limited"
    assert gate.check(TENANT, "u1", "a", now=11.0) is None, "60 a minute is one a second"
    assert gate.check(TENANT, "u1", "a", now=11.0) == "rate-limited"


def test_by_default_an_admin_gets_bursts_of_20_then_60_turns_a_minute():
    gate = AccessGate()
    assert [gate.check(TENANT, "u1", "a", now=0.0) for _ in range(21)] == [None] * 20 + ["rate-limited"]
    assert gate.check(TENANT, "u1", "a", now=0.99) == "rate-limited"
    assert gate.check(TENANT, "u1", "a", now=1.0) is None


def test_a_rate_of_zero_turns_the_limit_off():
    gate = AccessGate(turns_per_minute=0, burst=1)
    assert all(gate.check(TENANT, "u1", "a", now=0) is None for _ in range(100))


def test_the_clock_defaults_to_the_monotonic_one():
    gate = AccessGate(turns_per_minute=60, burst=1)
    assert gate.check(TENANT, "u1", "a") is None
    assert gate.check(TENANT, "u1", "a") == "rate-limited"


def test_memory_is_bounded_by_forgetting_the_idlest_tenth_of_users():
    gate = AccessGate(turns_per_minute=1, burst=1, max_tracked=20)
    # The first to talk is the idlest; names sort the other way round, so age decides, not name.
    users = [f"u{99 - n}" for n in range(20)]
    for n, user in enumerate(users):  # each uses their one turn
        assert gate.check(TENANT, user, "a", now=float(n)) is None
    assert gate.check(TENANT, users[5], "a", now=20.0) == "rate-limited"
    assert gate.check(TENANT, "newcomer", "a", now=20.0) is None  # full: the two idlest are forgotten
    assert gate.check(TENANT, users[2], "a", now=20.0) == "rate-limited", "the third idlest is still tracked"
    assert gate.check(TENANT, users[1], "a", now=20.0) is None, "a forgotten user starts afresh"
    assert gate.check(TENANT, users[0], "a", now=20.0) is None
    assert gate.check(TENANT, users[19], "a", now=20.0) == "rate-limited"


def test_by_default_fifty_thousand_users_are_remembered():
    gate = AccessGate(turns_per_minute=1, burst=1)
    for n in range(50_000):  # a microsecond apart: far too soon for a turn to come back
        gate.check(TENANT, f"u{n}", "a", now=n / 1e6)
    assert gate.check(TENANT, "u0", "a", now=0.05) == "rate-limited", "still remembered: no second burst"
    gate.check(TENANT, "newcomer", "a", now=0.05)
    assert gate.check(TENANT, "u1", "a", now=0.05) is None, "forgotten once the 50,001st user came"
