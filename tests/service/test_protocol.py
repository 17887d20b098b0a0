"""The coalescing transport: the writes of one event-loop step leave as one write, in order."""

from __future__ import annotations

import asyncio

from workup.service.protocol import CoalescingTransport


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default=None):
        return {"peername": ("127.0.0.1", 5000)}.get(name, default)


def test_head_and_body_written_in_one_step_leave_in_one_write():
    async def go():
        raw = FakeTransport()
        t = CoalescingTransport(raw, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        t.write(b"body")
        assert raw.writes == [] and t.get_write_buffer_size() == 42
        await asyncio.sleep(0)
        t.write(b"next")  # a later step: a write of its own
        await asyncio.sleep(0)
        return raw.writes

    assert asyncio.run(go()) == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody", b"next"]


def test_close_sends_what_is_kept_first():
    async def go():
        raw = FakeTransport()
        t = CoalescingTransport(raw, asyncio.get_running_loop())
        t.write(b"last words")
        t.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing more to send
        return raw

    raw = asyncio.run(go())
    assert raw.writes == [b"last words"] and raw.closed


def test_nothing_is_written_to_a_closing_connection_and_the_rest_is_the_real_transport():
    async def go():
        raw = FakeTransport()
        t = CoalescingTransport(raw, asyncio.get_running_loop())
        t.write(b"late")
        raw.closed = True  # the peer went away before the step ended
        await asyncio.sleep(0)
        return raw, t

    raw, t = asyncio.run(go())
    assert raw.writes == [] and t.is_closing()
    assert t.get_extra_info("peername") == ("127.0.0.1", 5000)
