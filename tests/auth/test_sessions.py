"""Sessions expire and sign-out deletes them; back-off grows per address and per user."""

from __future__ import annotations

from diploqa.auth import Backoff, SessionStore


def test_sessions_expire_and_can_be_deleted():
    now = [100.0]
    store = SessionStore(lifetime=60, clock=lambda: now[0])
    first, second = store.create("lena"), store.create("ed")
    assert first != second and len(first) >= 40
    assert store.get(first).user == "lena"
    store.delete(first)
    assert store.get(first) is None
    now[0] += 59
    assert store.get(second).user == "ed"
    now[0] += 1
    assert store.get(second) is None
    assert store.get("made-up") is None


def test_backoff_lets_a_few_failures_pass_then_doubles():
    now = [0.0]
    backoff = Backoff(free=3, base=1.0, cap=10.0, window=100.0, clock=lambda: now[0])
    for _ in range(3):
        assert backoff.wait("addr:1.2.3.4", "user:lena") == 0
        backoff.failed("addr:1.2.3.4", "user:lena")
    assert backoff.wait("addr:1.2.3.4") == 0  # three free failures
    backoff.failed("addr:1.2.3.4", "user:lena")
    assert backoff.wait("addr:1.2.3.4") == 1.0
    assert backoff.wait("addr:5.6.7.8", "user:lena") == 1.0  # per user, from anywhere
    assert backoff.wait("addr:5.6.7.8", "user:ed") == 0
    backoff.failed("addr:1.2.3.4")
    assert backoff.wait("addr:1.2.3.4") == 2.0
    for _ in range(10):
        backoff.failed("addr:1.2.3.4")
    assert backoff.wait("addr:1.2.3.4") == 10.0  # capped
    now[0] += 10
    assert backoff.wait("addr:1.2.3.4") == 0
    backoff.succeeded("user:lena")
    assert backoff.wait("user:lena") == 0


def test_backoff_forgets_old_failures():
    now = [0.0]
    backoff = Backoff(free=1, base=1.0, cap=10.0, window=50.0, clock=lambda: now[0])
    backoff.failed("k")
    now[0] += 51
    backoff.failed("k")
    assert backoff.wait("k") == 0
