"""A wall-clock timestamp drawn into the picture, readable after lossy encoding.

The sender stamps the capture time (unix milliseconds) into the top-left corner of each frame as a
grid of black/white blocks; a receiver reads it back from the decoded luma plane and subtracts it
from its own clock to get glass-to-glass latency without any side channel.

Layout (fixed, so readers need no negotiation): ``ROWS x COLS`` blocks of ``BLOCK`` x ``BLOCK``
pixels starting at pixel (0, 0), row-major, most significant bit first::

    8 bits sync (0xA5) | 48 bits milliseconds | 8 bits CRC-8 of the 6 millisecond bytes

Block size 16 px survives x264 at 360p and moderate bitrates; the code covers 256 x 64 px, so the
frame must be at least that large. Readers average the inner half of each block and threshold at
mid-grey, so limited-range (16..235) and full-range luma both work.

Public API (stable; the play engine imports :func:`read`)::

    stamp(bgr_or_y_plane, ms) -> None      # in place
    read(y_plane) -> int | None            # None when no valid code is present
"""

from __future__ import annotations

import numpy as np

BLOCK = 16
COLS = 16
ROWS = 4
SYNC = 0xA5
WIDTH = BLOCK * COLS  # 256 px
HEIGHT = BLOCK * ROWS  # 64 px
_BITS = COLS * ROWS  # 64
_MS_MASK = (1 << 48) - 1


def _crc8(data: bytes) -> int:
    """CRC-8/ATM (poly 0x07, init 0)."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _word(ms: int) -> int:
    ms &= _MS_MASK
    return (SYNC << 56) | (ms << 8) | _crc8(ms.to_bytes(6, "big"))


def bits(ms: int) -> np.ndarray:
    """The 64 code bits for ``ms`` as a (ROWS, COLS) array of 0/1."""
    word = _word(ms)
    flat = np.array([(word >> (63 - i)) & 1 for i in range(_BITS)], dtype=np.uint8)
    return flat.reshape(ROWS, COLS)


def stamp(image: np.ndarray, ms: int) -> None:
    """Draw the code for ``ms`` into the top-left of ``image`` in place.

    ``image`` is either a BGR ``(h, w, 3)`` uint8 array (blocks become black/white) or a 2-D luma
    plane (blocks become 16/235, limited range). A packed I420 buffer ``(h*3/2, w)`` also works:
    its top rows are the Y plane.
    """
    if image.shape[0] < HEIGHT or image.shape[1] < WIDTH:
        raise ValueError(f"frame {image.shape[1]}x{image.shape[0]} too small for a {WIDTH}x{HEIGHT} timecode")
    if image.ndim == 3:
        lo, hi = 0, 255
    else:
        lo, hi = 16, 235
    grid = bits(ms)
    # One np.kron-free expansion: repeat each bit into a BLOCK x BLOCK tile.
    tiles = np.repeat(np.repeat(grid, BLOCK, axis=0), BLOCK, axis=1)
    values = np.where(tiles == 1, hi, lo).astype(np.uint8)
    if image.ndim == 3:
        image[:HEIGHT, :WIDTH, :] = values[:, :, None]
    else:
        image[:HEIGHT, :WIDTH] = values


def read(y_plane: np.ndarray) -> int | None:
    """Read the stamped milliseconds back from a luma plane (or a BGR image), else None.

    Accepts a 2-D uint8 array whose rows may be wider than the picture (decoder line padding).
    Returns None when the sync byte or the CRC does not match (no code, or too damaged).
    """
    if y_plane.ndim == 3:
        y_plane = y_plane[:, :, 1]  # green approximates luma well enough for black/white blocks
    if y_plane.shape[0] < HEIGHT or y_plane.shape[1] < WIDTH:
        return None
    region = y_plane[:HEIGHT, :WIDTH].astype(np.float32)
    q = BLOCK // 4
    # Mean of the inner half of each block: (ROWS, BLOCK, COLS, BLOCK) -> inner slice -> mean.
    blocks = region.reshape(ROWS, BLOCK, COLS, BLOCK)[:, q:BLOCK - q, :, q:BLOCK - q]
    means = blocks.mean(axis=(1, 3))
    flat = (means > 125.5).astype(np.uint64).reshape(-1)
    word = 0
    for b in flat:
        word = (word << 1) | int(b)
    if (word >> 56) != SYNC:
        return None
    ms = (word >> 8) & _MS_MASK
    if _crc8(ms.to_bytes(6, "big")) != (word & 0xFF):
        return None
    return int(ms)
