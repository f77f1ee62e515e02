"""``/delete_account``: a user deletes their own account and everything it published.

Signed with the user's token AND carrying the (wire) password again, so a leaked token alone
cannot erase an account. Removes, for the signer only: replays (rows, and the MP4/JPEG/HLS files
this server recorded for them), the live HLS of the user's streams, short videos, objects the user
uploaded (``users/{id}/``, ``ugc/{id}/``), room info, stream state, danmaku sent by or to the
user's rooms, sessions, and the user row. ``xiaozhibo doctor`` uses it to leave nothing behind in
the deployment it checks.
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import delete, or_, select

from protocol.signing import cos_user_prefix
from server.api import sessions
from server.api.accounts import verify_password
from server.api.list_cache import replays_changed
from server.api.schemas import DeleteAccountRequest
from server.context import ServerContext
from server.db.models import Danmaku, LiveStream, RoomInfo, Token, Ugc, User, Vod
from server.media.replay_mix import MIXED_SUFFIX, join_files
from server.storage.local import vod_prefix

log = logging.getLogger(__name__)

_VOD_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,160}$")
_VOD_EXTS = (".mp4", ".jpg", ".m3u8", ".ts", ".start")  # what finish_recording writes per replay


def delete_account(ctx: ServerContext, userid: str, req: DeleteAccountRequest) -> dict[str, Any]:
    """Delete the signer's account and data; counts of what went."""
    verify_password(ctx, userid, req.password)
    with ctx.db.session() as s:
        vods = s.execute(select(Vod.play_url, Vod.hls_play_url, Vod.frontcover).where(Vod.userid == userid)).all()
        streams = list(s.scalars(select(LiveStream.stream_id).where(LiveStream.userid == userid)))
        ugc = len(s.scalars(select(Ugc.id).where(Ugc.userid == userid)).all())
        s.execute(delete(Ugc).where(Ugc.userid == userid))
        s.execute(delete(Vod).where(Vod.userid == userid))
        cond = Danmaku.userid == userid
        s.execute(delete(Danmaku).where(or_(cond, Danmaku.stream_id.in_(streams)) if streams else cond))
        for model in (LiveStream, RoomInfo, Token):
            s.execute(delete(model).where(model.userid == userid))
        s.execute(delete(User).where(User.userid == userid))
    sessions.revoked(ctx, userid)  # before the reply: cached tokens (server/api/token_cache.py) stop at once
    replays_changed(ctx)  # and its replays leave the cached list pages
    files = sum(_remove_replay_files(ctx, urls) for urls in vods)
    objects = sum(_remove_tree(ctx.storage.root, prefix) for prefix in (cos_user_prefix(userid), vod_prefix(userid)))
    objects += sum(_remove_tree(ctx.config.media_dir / "hls", sid) for sid in streams if _VOD_NAME.fullmatch(sid))
    log.info("account %s deleted: %d replay(s), %d short video(s), %d file(s)", userid, len(vods), ugc,
             files + objects)
    return {"vods": len(vods), "ugc": ugc, "files": files + objects}


def _remove_replay_files(ctx: ServerContext, urls: tuple[str, ...]) -> int:
    """The files this server recorded for one replay (only names under its own ``/vod/``)."""
    base = f"{ctx.config.http_base}/vod/"
    vod_dir = ctx.config.media_dir / "vod"
    stems = {u[len(base):].rsplit(".", 1)[0] for u in urls if u.startswith(base) and _VOD_NAME.fullmatch(u[len(base):])}
    # a co-hosted live's replay is stitched ({file_id}_mixed.*) from the anchor's own recording
    stems |= {stem.removesuffix(MIXED_SUFFIX) for stem in stems if stem.endswith(MIXED_SUFFIX)}
    # ... and a join may have left files while the replay still shows the anchor's own recording
    stems |= {stem + MIXED_SUFFIX for stem in stems if not stem.endswith(MIXED_SUFFIX)}
    removed = 0
    for path in [p for stem in stems if stem.endswith(MIXED_SUFFIX) for p in join_files(vod_dir, stem)]:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("cannot remove replay file %s: %s", path.name, e)
    for stem in stems:
        for ext in _VOD_EXTS:
            try:
                (vod_dir / f"{stem}{ext}").unlink()
                removed += 1
            except FileNotFoundError:
                pass
            except OSError as e:
                log.warning("cannot remove replay file %s%s: %s", stem, ext, e)
    return removed


def _remove_tree(root: Path, prefix: str) -> int:
    path = (root / prefix).resolve()
    if root.resolve() not in path.parents or not path.is_dir():
        return 0
    count = sum(1 for p in path.rglob("*") if p.is_file())
    shutil.rmtree(path, ignore_errors=True)
    return count
