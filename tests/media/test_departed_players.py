"""Issue 18: an RTMP player that leaves must not keep media frames alive in the server.

A departed player's play task was cancelled; the task kept its CancelledError, whose traceback
held the play loop's frame (with the GOP it was sent on joining, and its queue) and the session,
which held the task: a reference cycle that only a full garbage collection frees. A steady server
runs one rarely (the soak's 20 s viewers' frames outlived the 9-minute run), so each viewer that
left kept a GOP: the server heap's slope. Here the real session code serves a real TCP player
with the cyclic collector off, so what is not freed by reference counting stays and is counted.
"""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from server.config import LimitsConfig
from server.limits import RateLog, addr_key
from server.main import loop_factory
from server.media.preauth import PreAuthPool
from server.media.relay import Frame, Hub, LiveStream
from server.media.rtmp import amf0, chunk
from server.media.rtmp.client import RtmpClient
from server.media.session import RtmpSession

SID = "1_leaver01"
BURST_TS, LIVE_TS, NEXT_GOP_TS = 1000, 3000, 4000  # ms: the GOP a player gets on joining, later ones


class Core:
    """What a session needs of the media service, from the real parts (nobody publishes over RTMP
    here: the test pushes frames into the stream itself)."""

    def __init__(self) -> None:
        self.hub = Hub()
        self.idle_timeout, self.play_wait, self.takeover_idle = 30.0, 0.0, 0.0
        self.limits = LimitsConfig()
        self.rate_log = RateLog(logging.getLogger("test"), 60.0)
        self.preauth = PreAuthPool(self.limits, self.rate_log)

    def authorize_publish(self, app: str, sid: str, query: dict[str, str]) -> None:
        raise AssertionError("no publish in this test")

    async def publish_started(self, stream: LiveStream) -> None: ...

    async def publish_ended(self, stream: LiveStream) -> None: ...


def video(ts: int, key: bool) -> Frame:
    return Frame.from_message(chunk.VIDEO, ts, (b"\x17" if key else b"\x27") + b"\x01\x00\x00\x00" + bytes(3000))


def burst_frames_alive() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is Frame and BURST_TS <= o.timestamp < NEXT_GOP_TS
               and not o.header)


async def scenario(goodbye: bool) -> int:
    core = Core()
    sessions: set[asyncio.Task[None]] = set()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        sessions.add(task)
        s = RtmpSession(core, reader, writer)
        core.preauth.enter(s, addr_key(writer.get_extra_info("peername")))
        try:
            await s.run()
        finally:
            core.preauth.leave(s)

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    st = core.hub.begin(SID)
    st.push_many([Frame.from_message(chunk.VIDEO, 0, b"\x17\x00\x00\x00\x00\x01avcC"),
                  Frame.from_message(chunk.AUDIO, 0, b"\xaf\x00\x12\x10")])
    st.push_many([video(BURST_TS + 40 * i, i == 0) for i in range(40)])  # the GOP cache: 40 x 3 KB
    c = await RtmpClient.connect(f"rtmp://127.0.0.1:{port}/live")
    assert "NetStream.Play" in (await c.play(SID))[3]["code"]
    got = 0
    while got < 40:  # the GOP cache arrives on joining
        got += (await c.read_message(5)).type_id == chunk.VIDEO
    for i in range(5):  # live frames the player gets later, as a viewer does
        st.push_many([video(LIVE_TS + 40 * i, i == 0)])
    while got < 45:
        got += (await c.read_message(5)).type_id == chunk.VIDEO
    if goodbye:  # FFmpeg's way: deleteStream, then close
        c.send(3, 0, chunk.COMMAND_AMF0, 0, amf0.encode("deleteStream", 0.0, None, 1.0))
        await c.writer.drain()
    c.close()
    await c.writer.wait_closed()
    await asyncio.wait_for(asyncio.gather(*sessions, return_exceptions=True), 5)
    for _ in range(3):  # let cancelled tasks finish their last step
        await asyncio.sleep(0)
    st.push_many([video(NEXT_GOP_TS, True)])  # a new GOP: the stream itself holds no burst frame now
    n = burst_frames_alive() - 1  # the stream's first keyframe (kept for the live cover)
    core.hub.end(st)
    server.close()
    await server.wait_closed()
    return n


def run_without_cycle_collection(goodbye: bool, event_loop: str) -> int:
    """The scenario on the loop ``[server] event_loop`` names, with the cyclic collector off."""
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        with asyncio.Runner(loop_factory=loop_factory(event_loop)) as runner:
            return runner.run(scenario(goodbye))
    finally:
        if was:
            gc.enable()
        gc.collect()


@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
def test_player_that_says_goodbye_leaves_no_frames_behind(event_loop: str) -> None:
    assert run_without_cycle_collection(True, event_loop) == 0


@pytest.mark.parametrize("event_loop", ["uvloop", "asyncio"])
def test_player_that_hangs_up_leaves_no_frames_behind(event_loop: str) -> None:
    assert run_without_cycle_collection(False, event_loop) == 0
