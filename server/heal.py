"""Crash leftovers healed on start (a server killed with -9, a power loss).

- Streams left ``live`` in the database by a previous run of this node are marked ended, so no
  room is listed live without a publisher. Without Redis (one node) that is every live stream;
  with Redis (several nodes share the database) only those this node's media server carried:
  each node has a persistent id (``DIR/node_id``) stored with the streams it begins.
- ``.upload-*`` temp files of interrupted uploads are removed from the storage folder, and
  ``*.tmp`` files of interrupted remuxes and mixed-replay joins from the replay folder, with the
  joins' ``.{file_id}_mixed[.{pid}].hls`` work folders (the joins are redone: server/media/replay_mix.py).
- Live HLS folders are removed (nothing is live on this node at start).

Recordings (FLV files left in ``media/record``) are handled by the media service's recovery:
header-only files are dropped and files that cannot be remuxed are quarantined once.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from pathlib import Path

from sqlalchemy import ColumnElement, select, update

from server.context import ServerContext
from server.db.models import LiveStream

log = logging.getLogger(__name__)


def node_id(data_dir: Path) -> str:
    """This node's persistent id (``DIR/node_id``, created on first use, mode 0600)."""
    path = data_dir / "node_id"
    try:
        value = path.read_text("ascii").strip()
        if value:
            return value[:64]
    except (OSError, UnicodeDecodeError):
        pass
    value = secrets.token_hex(8)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def reset_live_flags(ctx: ServerContext) -> list[str]:
    """Mark ended the streams a previous run of this node left live; their stream ids."""
    now = int(time.time())
    where: list[ColumnElement[bool]] = [LiveStream.live.is_(True)]
    if ctx.config.server.redis_url:  # other nodes may be live: only ours
        where.append(LiveStream.node == ctx.node_id)
    with ctx.db.session() as s:
        sids = list(s.scalars(select(LiveStream.stream_id).where(*where)))
        if sids:
            s.execute(update(LiveStream).where(LiveStream.stream_id.in_(sids)).values(live=False, ended_at=now))
    if sids:
        log.warning("crash recovery: %d stream(s) left live by the previous run marked ended: %s",
                    len(sids), ", ".join(sids[:10]) + (" ..." if len(sids) > 10 else ""))
    return sids


def _remove(paths: list[Path], what: str) -> int:
    n = 0
    for p in paths:
        try:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
            n += 1
        except OSError as e:
            log.warning("crash recovery: cannot remove %s: %s", p, e)
    if n:
        log.info("crash recovery: removed %d %s", n, what)
    return n


def remove_temp_files(ctx: ServerContext) -> None:
    cfg = ctx.config
    _remove(list(cfg.storage_dir.rglob(".upload-*")), "interrupted upload temp file(s)")
    vod = cfg.media_dir / "vod"
    _remove(list(vod.glob("*.tmp")), "interrupted remux temp file(s)")
    _remove([p for p in [*vod.glob(".*_mixed.hls"), *vod.glob(".*_mixed.*.hls")] if p.is_dir()],
            "interrupted mixed-replay join folder(s)")
    hls = cfg.media_dir / "hls"
    _remove(list(hls.iterdir()) if hls.is_dir() else [], "stale live HLS folder(s)")


def on_start(ctx: ServerContext) -> list[str]:
    """Heal what a killed previous run left; the stream ids whose live flag was reset."""
    try:
        sids = reset_live_flags(ctx)
    except Exception:
        log.exception("crash recovery: cannot reset live flags")
        sids = []
    try:
        remove_temp_files(ctx)
    except OSError as e:
        log.warning("crash recovery: cannot clean temp files: %s", e)
    return sids
