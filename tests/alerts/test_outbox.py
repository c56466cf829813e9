"""The outbox: batches delivered from a thread of their own, retried with back-off with the
same id and body, given up after the last attempt, gone with their question."""

from __future__ import annotations

import time

import pytest
from webhook_receiver import Receiver

from diploqa.alerts import AlertStore
from diploqa.alerts.outbox import Outbox, Sender, enqueue
from diploqa.alerts.webhooks import verify


@pytest.fixture
def store(tmp_path) -> AlertStore:
    return AlertStore(tmp_path / "alerts.sqlite3", allow_private_webhooks=True)


def queue(store: AlertStore, url: str, batch_id: str = "b1"):
    followed = store.add("Genf", "Wer traf Lawrow?", webhook=url)
    with store.db.write() as db:
        enqueue(db, batch_id, followed.question.id, url, b'{"id": "%s"}' % batch_id.encode())
    return followed


def delivered(store: AlertStore) -> list[tuple]:
    with store.db.read() as db:
        rows = db.execute(
            "SELECT id, attempts, delivered IS NOT NULL, failed IS NOT NULL FROM outbox"
        )
        return [tuple(r) for r in rows]


def test_a_failing_receiver_gets_the_same_batch_again_until_it_takes_it(store):
    with Receiver() as hook:
        followed = queue(store, hook.url)
        hook.fail(2)
        sender = Sender(Outbox(store, retry_base=0.05, retry_cap=0.2), poll=0.05)
        sender.start()
        try:
            [delivery] = hook.wait(1, timeout=30)
        finally:
            sender.close()
    assert len(hook.failed) == 2
    assert {d.body for d in hook.failed} == {delivery.body} == {b'{"id": "b1"}'}
    assert {d.headers["x-diploqa-batch"] for d in [*hook.failed, delivery]} == {"b1"}
    assert verify(followed.webhook_secret, delivery.body, delivery.headers["x-diploqa-signature"])
    assert delivered(store) == [("b1", 3, 1, 0)]


def test_back_off_doubles_and_a_batch_is_given_up_after_the_last_attempt(store):
    with Receiver() as hook:
        queue(store, hook.url)
        hook.fail(100)
        outbox = Outbox(store, retry_base=10, retry_cap=25, max_attempts=3)
        waits = []
        for _ in range(3):
            with store.db.write() as db:  # make it due now
                db.execute("UPDATE outbox SET next_try = 0")
            assert outbox.send_due() == (0, 1)
            waits.append(outbox.next_due() - time.time() if outbox.next_due() else None)
    assert 9 < waits[0] <= 10 and 19 < waits[1] <= 20  # 10 s, then 20 s
    assert waits[2] is None  # given up: no longer due
    assert delivered(store) == [("b1", 3, 0, 1)]
    assert Outbox(store).pending()  # listed as waiting, with its last error


def test_a_removed_question_takes_its_batches_along(store):
    followed = queue(store, "http://127.0.0.1:9/hook")
    store.remove(followed.question.id)
    assert delivered(store) == [] and Outbox(store).send_due() == (0, 0)


def test_waking_the_sender_does_not_wait_for_a_slow_receiver(store):
    with Receiver() as hook:
        queue(store, hook.url)
        hook.delay = 3.0
        sender = Sender(Outbox(store), poll=0.05)
        sender.start()
        try:
            time.sleep(0.5)  # the sender is inside the slow POST now
            started = time.monotonic()
            sender.wake()
            assert time.monotonic() - started < 0.5
            assert delivered(store) == [("b1", 0, 0, 0)]  # the receiver is still answering
            hook.wait(1, timeout=30)
            deadline = time.monotonic() + 30
            while delivered(store) != [("b1", 1, 1, 0)]:
                assert time.monotonic() < deadline, delivered(store)
                time.sleep(0.05)
        finally:
            sender.close()


def test_a_batch_held_by_another_sender_waits_for_the_hold_then_goes_again(store):
    with Receiver() as hook:
        queue(store, hook.url)
        held = Outbox(store, hold=1.0)  # a sender killed after it claimed (and sent) the batch
        [batch] = held.due()
        assert held.claim(batch)
        claimed = time.time()
        other = Outbox(store, hold=1.0)  # the restarted server's
        assert other.send_due() == (0, 0) and hook.deliveries == []  # held: left alone
        deadline = time.monotonic() + 30
        while other.send_due() == (0, 0):
            assert time.monotonic() < deadline, "the hold never passed"
            time.sleep(0.05)
        assert [d.headers["x-diploqa-batch"] for d in hook.deliveries] == ["b1"]
    assert time.time() - claimed >= 0.99  # not before the hold passed
    assert delivered(store) == [("b1", 1, 1, 0)]
