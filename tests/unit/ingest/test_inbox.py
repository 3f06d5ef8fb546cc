"""The ingest's inbox between paho's network thread and the consumer: bounded, batched, drained on close."""

from __future__ import annotations

import threading
import time

from inventory_service.ingest.mqtt import Inbox, Message


def msg(i: int, size: int = 10) -> Message:
    return Message(f"coldchain/s-{i}/reading", b"x" * size, i, 1)


def test_a_batch_takes_what_is_there_up_to_its_message_cap():
    inbox = Inbox()
    for i in range(5):
        inbox.put(msg(i))
    assert [m.mid for m in inbox.take(3, 10_000, 0.0)] == [0, 1, 2]
    assert [m.mid for m in inbox.take(3, 10_000, 0.0)] == [3, 4]


def test_a_batch_stops_once_it_reaches_its_byte_cap():
    inbox = Inbox()
    for i in range(4):
        inbox.put(msg(i, size=100))
    assert len(inbox.take(100, 250, 0.0)) == 3  # the message that crosses the cap is the last one
    assert len(inbox) == 1


def test_the_consumer_waits_for_a_first_message_then_briefly_for_more():
    inbox = Inbox()
    got: list[list[Message]] = []
    consumer = threading.Thread(target=lambda: got.append(inbox.take(3, 10_000, 5.0)))
    consumer.start()
    time.sleep(0.05)
    assert got == []  # nothing there yet: still waiting
    for i in range(3):
        inbox.put(msg(i))
    consumer.join(2.0)  # the third message fills the batch: no need to wait out the 5 s
    assert [m.mid for m in got[0]] == [0, 1, 2]


def test_a_partial_batch_goes_when_the_wait_is_over():
    inbox = Inbox()
    inbox.put(msg(1))
    started = time.monotonic()
    assert [m.mid for m in inbox.take(100, 10_000, 0.05)] == [1]
    assert 0.04 <= time.monotonic() - started < 1.0


def test_a_full_inbox_blocks_the_producer_until_the_consumer_takes_a_batch():
    inbox = Inbox(max_messages=2, max_bytes=1_000)
    inbox.put(msg(1))
    inbox.put(msg(2))
    third = threading.Thread(target=inbox.put, args=(msg(3),))
    third.start()
    third.join(0.1)
    assert third.is_alive()  # back-pressure: paho's thread waits, the broker stops at Receive Maximum
    assert [m.mid for m in inbox.take(1, 1_000, 0.0)] == [1]
    third.join(2.0)
    assert not third.is_alive()
    assert [m.mid for m in inbox.take(10, 1_000, 0.0)] == [2, 3]


def test_the_byte_budget_blocks_too_but_lets_an_oversized_message_in_alone():
    inbox = Inbox(max_messages=100, max_bytes=150)
    inbox.put(msg(1, size=100))
    second = threading.Thread(target=inbox.put, args=(msg(2, size=100),))
    second.start()
    second.join(0.1)
    assert second.is_alive()
    inbox.take(10, 10_000, 0.0)
    second.join(2.0)
    assert not second.is_alive()
    inbox.take(10, 10_000, 0.0)
    inbox.put(msg(3, size=1_000))  # larger than the whole budget, into an empty inbox
    assert len(inbox) == 1


def test_close_hands_over_what_is_left_then_an_empty_batch():
    inbox = Inbox()
    inbox.put(msg(1))
    inbox.close()
    assert [m.mid for m in inbox.take(100, 10_000, 5.0)] == [1]  # no 5 s wait once closed
    assert inbox.take(100, 10_000, 5.0) == []


def test_close_wakes_a_waiting_consumer():
    inbox = Inbox()
    got: list[list[Message]] = []
    consumer = threading.Thread(target=lambda: got.append(inbox.take(10, 10_000, 5.0)))
    consumer.start()
    time.sleep(0.05)
    inbox.close()
    consumer.join(2.0)
    assert got == [[]]
