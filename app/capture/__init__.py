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
