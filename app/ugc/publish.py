"""Publishing a recorded clip: VOD-signed uploads of the video and its cover, then /upload_ugc."""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.api.client import ApiClient, UgcInfo
from app.ugc.errors import UgcError, UgcErrorCode
from app.ugc.recorder import ClipInfo

log = logging.getLogger(__name__)

MAX_TITLE = 64
MAX_LOCATION = 128  # the server's limit


def publish_clip(api: ApiClient, clip: ClipInfo, title: str, location: str = "",
                 progress: Callable[[int, int], None] | None = None) -> UgcInfo:
    """get_vod_sign -> PUT /ugc/upload/clip.mp4 -> get_vod_sign -> PUT /ugc/upload/clip.jpg (cover)
    -> /upload_ugc. The server files both uploads under this user, and publishes only those.

    ``progress(sent, total)`` counts the bytes of both uploads (video, then cover), so it rises
    once from 0 to ``total``. Returns the published entry as /get_ugc_list lists it. Raises
    :class:`UgcError` for bad input (empty title, missing file; nothing is uploaded then) and
    :class:`app.api.ApiError` for server or network failures. The title is trimmed to 64 characters.
    """
    title = " ".join(title.split())[:MAX_TITLE]
    if not title:
        raise UgcError("a title is required", UgcErrorCode.INVALID)
    if not clip.path.is_file():
        raise UgcError(f"the clip {clip.path} no longer exists", UgcErrorCode.INVALID)
    location = location.strip()[:MAX_LOCATION]
    has_cover = clip.cover.is_file()
    if not has_cover:
        log.warning("clip %s has no cover %s: publishing without one", clip.path.name, clip.cover)
    video_size = clip.path.stat().st_size
    total = video_size + (clip.cover.stat().st_size if has_cover else 0)

    def report(offset: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        return lambda sent, _size: progress(offset + sent, total)

    sig = api.get_vod_sign()
    file_id, play_url = api.upload_vod(clip.path, progress=report(0), signature=sig)
    cover_url = ""
    if has_cover:
        # a fresh signature: the first one (bound to this user, 1 h) may have run out during a long upload
        _, cover_url = api.upload_vod(clip.cover, progress=report(video_size))
    api.upload_ugc(file_id, title, cover_url, location, play_url)
    log.info("published clip %s as %s (%r)", clip.path.name, file_id, title)
    userid = api.session.userid if api.session is not None else ""
    for entry in api.get_ugc_list(0, 100):
        if entry.file_id == file_id and entry.userid == userid:
            return entry
    # listed beyond the first page (many clips published at once): what we sent is what it shows
    return UgcInfo(userid=userid, nickname=userid, avatar="", file_id=file_id, title=title,
                   frontcover=cover_url, location=location, play_url=play_url, create_time="")
