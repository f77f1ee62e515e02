"""Server side of the mixer (混流): one ``python -m server.media.mixer`` child per mixed room.

RoomService says what a room needs with :meth:`MixerControl.want` (the room's list of stream ids,
anchor first, and a layout: ``pip`` for co-hosts, ``side_by_side`` for a PK) and
:meth:`MixerControl.drop`. A supervisor task per room starts the child, hands it the job on stdin
(the publish URL is signed with ``[live] push_key`` for the reserved stream id
:func:`mix_stream_id`, which no user can be given), forwards its stderr to our log, sends input
or layout changes as further stdin lines, and restarts it when it dies (0.5 s, doubling up to
``restart_max_delay``). Nothing a child does can raise into the server.

The mixed stream is an ordinary stream of the media server, so it gets HTTP-FLV, HLS, the
recording and live events like any other; its id ``{bizid}mix_{userid}`` parses as the anchor's
(``userid_from_stream_id``); its recording is not listed on its own but stitched into the
anchor's replay for the mixed spans (:mod:`server.media.replay_mix`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from protocol.signing import push_url, stream_id, userid_from_stream_id
from server.limits import RateLog

if TYPE_CHECKING:
    from server.context import ServerContext

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
MIX_MARK = "mix"
STABLE_S = 30.0  # a child that ran this long restarts after the shortest delay again


def mix_stream_id(bizid: str | int, room_sid: str) -> str:
    """The mixed stream of room ``{bizid}_{userid}``: ``{bizid}mix_{userid}``. A user's own stream
    id is always ``{bizid}_{userid}`` with the configured bizid, so no user gets a push URL for it."""
    uid = userid_from_stream_id(room_sid)
    if uid is None:
        raise ValueError(f"not a room stream id: {room_sid!r}")
    return stream_id(f"{bizid}{MIX_MARK}", uid)


def is_mix_stream(bizid: str | int, sid: str) -> bool:
    return sid.startswith(f"{bizid}{MIX_MARK}_")


@dataclass
class _Job:
    rid: str
    sids: list[str]
    layout: str
    wanted: bool = True
    proc: asyncio.subprocess.Process | None = None
    task: asyncio.Task[None] | None = None
    starts: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the server dies, however it dies."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class MixerControl:
    """Start, reconfigure, restart and stop the mixer children of this node."""

    def __init__(self, ctx: "ServerContext") -> None:
        self.ctx = ctx
        self.cfg = ctx.config.mixer
        self.jobs: dict[str, _Job] = {}
        self.rate_log = RateLog(log, 10.0)

    # --- what RoomService calls ---------------------------------------------------------------
    def want(self, rid: str, sids: list[str], layout: str) -> None:
        """Room ``rid`` should be mixed from ``sids`` (anchor first) with ``layout``."""
        if not self.cfg.enabled:
            return
        job = self.jobs.get(rid)
        if job is not None and job.wanted:
            if (job.sids, job.layout) != (sids, layout):
                job.sids, job.layout = list(sids), layout
                self._send(job, {"inputs": self._urls(sids), "layout": layout})
            return
        if len(self.jobs) >= self.cfg.max_rooms:
            self.rate_log.note("mixer refused", f"{len(self.jobs)} rooms mixed already ([mixer] max_rooms); "
                               f"{rid} plays its anchor's stream")
            return
        job = self.jobs[rid] = _Job(rid, list(sids), layout)
        job.task = asyncio.create_task(self._supervise(job), name=f"mixer-{rid}")
        log.info("mixer for %s: starting (%s, %d streams)", rid, layout, len(sids))

    def drop(self, rid: str) -> None:
        """Room ``rid`` is no longer mixed: its child is asked to finish (killed if it does not)."""
        job = self.jobs.pop(rid, None)
        if job is None:
            return
        job.wanted = False
        job.changed.set()
        log.info("mixer for %s: stopping", rid)

    def pid(self, rid: str) -> int | None:
        job = self.jobs.get(rid)
        return job.proc.pid if job is not None and job.proc is not None and job.proc.returncode is None else None

    async def stop(self) -> None:
        """Server shutdown: end every child (bounded)."""
        jobs = list(self.jobs.values())
        for job in jobs:
            self.drop(job.rid)
        tasks = [j.task for j in jobs if j.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=self.cfg.stop_timeout + 2)

    # --- child processes ----------------------------------------------------------------------
    def _base(self) -> str:
        if self.cfg.rtmp_base:
            return self.cfg.rtmp_base.rstrip("/")
        scheme = "rtmps" if self.ctx.rtmp_ssl is not None else "rtmp"
        if self.ctx.media is not None:
            port = self.ctx.media.rtmp_port
        elif self.ctx.worker_index > 0:  # --workers: worker 0 runs media on the shared RTMP port
            port = self.ctx.config.server.rtmp_port
        else:
            raise RuntimeError("the mixer needs the embedded media server or [mixer] rtmp_base")
        return f"{scheme}://127.0.0.1:{port}/live"

    def _urls(self, sids: list[str]) -> list[str]:
        base = self._base()
        return [f"{base}/{sid}" for sid in sids]

    def _out_url(self, rid: str) -> str:
        live = self.ctx.config.live
        base = self._base()
        scheme, rest = base.split("://", 1)
        hostport, _, app = rest.partition("/")
        host, _, port = hostport.rpartition(":")
        url = push_url(host, int(port), live.push_key, live.bizid, mix_stream_id(live.bizid, rid),
                       int(time.time()) + 86400, tls=scheme == "rtmps")
        return url.replace("/live/", f"/{app or 'live'}/", 1)

    def _job_line(self, job: _Job) -> dict[str, object]:
        c = self.cfg
        return {"out": self._out_url(job.rid), "inputs": self._urls(job.sids), "layout": job.layout,
                "width": c.width, "height": c.height, "fps": c.fps, "keyint": c.keyint,
                "video_bitrate": c.video_bitrate, "audio_rate": c.audio_rate}

    def _send(self, job: _Job, line: dict[str, object]) -> None:
        proc = job.proc
        if proc is None or proc.stdin is None or proc.returncode is not None:
            return  # the next start sends the whole current job
        try:
            proc.stdin.write((json.dumps(line) + "\n").encode())
        except (ConnectionError, RuntimeError) as e:
            log.debug("mixer for %s: stdin closed (%s)", job.rid, e)

    async def _supervise(self, job: _Job) -> None:
        delay = 0.5
        while job.wanted:
            started = time.monotonic()
            try:
                rc = await self._run_child(job)
            except Exception:
                log.exception("mixer for %s: cannot run the child", job.rid)
                rc = None
            if not job.wanted:
                break
            if time.monotonic() - started > STABLE_S:
                delay = 0.5
            self.rate_log.note(f"mixer for {job.rid}", f"child exited ({rc}); restarting in {delay:g} s")
            job.changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(job.changed.wait(), delay)
            delay = min(delay * 2, self.cfg.restart_max_delay)

    async def _run_child(self, job: _Job) -> int | None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "server.media.mixer", cwd=ROOT, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        job.proc, job.starts = proc, job.starts + 1
        self._send(job, self._job_line(job))
        logs = asyncio.create_task(self._forward_logs(job.rid, proc), name=f"mixer-log-{job.rid}")
        try:
            job.changed.clear()
            while job.wanted and proc.returncode is None:
                waiter = asyncio.create_task(proc.wait())
                changed = asyncio.create_task(job.changed.wait())
                await asyncio.wait({waiter, changed}, return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                if not waiter.done():
                    waiter.cancel()
                job.changed.clear()
            if proc.returncode is None:
                await self._end_child(proc)
            return proc.returncode
        finally:
            logs.cancel()

    async def _end_child(self, proc: asyncio.subprocess.Process) -> None:
        """Close stdin (the child flushes and exits); SIGKILL after ``stop_timeout``."""
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), self.cfg.stop_timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()

    async def _forward_logs(self, rid: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        while True:
            line = await proc.stderr.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()[:300]
            if text.startswith(("ERROR", "WARNING", "Traceback")):
                self.rate_log.note(f"mixer {rid}", text)
            else:
                log.debug("mixer %s: %s", rid, text)
