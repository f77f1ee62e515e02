"""Video and audio sources and filters for the push engine (no Qt).

Every video source has ``read() -> np.ndarray | None`` returning the latest BGR picture (``None``
once the source has ended) and ``close()``; audio sources have ``read(n) -> np.ndarray | None``
returning ``(n, 2)`` float32 samples at :data:`app.capture.audio.SAMPLE_RATE`.
"""

from __future__ import annotations


class CaptureError(Exception):
    """A source could not be opened or failed; ``code`` is a short machine-readable reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def open_media_track(path: str, kind: str, code: str):  # type: ignore[no-untyped-def]
    """Open ``path`` with PyAV and return ``(container, first stream of kind "audio"|"video")``.

    Raises :class:`CaptureError` with ``code`` when the file cannot be opened or has no such track.
    """
    import av

    try:
        container = av.open(path)
    except (OSError, av.FFmpegError) as exc:
        raise CaptureError(code, f"cannot open {path}: {exc}") from exc
    streams = getattr(container.streams, kind)
    if not streams:
        container.close()
        what = "audio track" if kind == "audio" else "video stream"
        raise CaptureError(code, f"{path} has no {what}")
    return container, streams[0]
