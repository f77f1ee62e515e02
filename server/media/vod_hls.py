"""HLS replays: a VOD playlist over one MPEG-TS file (byte ranges) remuxed from the replay MP4.

Written next to the MP4 as ``{file_id}.m3u8`` + ``{file_id}.ts`` (served at ``/vod/``), so the
same replay plays in browsers through hls.js. Packets are copied (no decoding); timestamps keep
the MP4's, so the playlist starts at 0 and replay danmaku offsets line up.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import av

SEGMENT_S = 4


def remux_to_hls(mp4: Path, segment_s: int = SEGMENT_S) -> Path:
    """Write ``{stem}.m3u8`` + ``{stem}.ts`` beside ``mp4``; returns the playlist path.

    The playlist appears last (after the TS is complete), so its existence means the pair is whole.
    """
    stem = mp4.stem
    work = mp4.with_name(f".{stem}.hls")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        opts = {"hls_time": str(segment_s), "hls_playlist_type": "vod", "hls_segment_type": "mpegts",
                "hls_flags": "single_file+independent_segments",
                "hls_segment_filename": str(work / f"{stem}.ts")}
        with av.open(str(mp4)) as inp:
            streams = [s for s in inp.streams if s.type in ("video", "audio")]
            if not streams:
                raise ValueError(f"{mp4.name}: no audio or video")
            with av.open(str(work / f"{stem}.m3u8"), "w", format="hls", options=opts) as out:
                omap = {s.index: out.add_stream_from_template(s) for s in streams}
                for pkt in inp.demux(streams):
                    if pkt.dts is None or pkt.size == 0:
                        continue
                    pkt.stream = omap[pkt.stream.index]
                    out.mux(pkt)
        os.replace(work / f"{stem}.ts", mp4.with_suffix(".ts"))
        os.replace(work / f"{stem}.m3u8", mp4.with_suffix(".m3u8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return mp4.with_suffix(".m3u8")
