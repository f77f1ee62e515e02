"""``Upload`` (server/storage/local.py) on both file kinds: an unnamed ``O_TMPFILE`` (Linux) and
the ``.upload-*`` temp file used elsewhere. Nothing is named before the commit (unnamed kind),
an abort leaves nothing, an abort after a commit keeps the object, a refusal changes nothing."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import pytest

from server.storage.local import StorageError, Upload, anonymous_files_work

JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 100
KINDS = [False, pytest.param(True, marks=pytest.mark.skipif(not anonymous_files_work(Path(tempfile.gettempdir())),
                                                              reason="no O_TMPFILE here"))]


def _names(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("anonymous", KINDS)
def test_commit_abort_and_refusal(tmp_path: Path, anonymous: bool) -> None:
    target = tmp_path / "users" / "u1" / "a.jpg"
    up = Upload("users/u1/a.jpg", target, "image/jpeg", 4096, anonymous)
    assert _names(tmp_path) == []  # nothing before the first byte
    up.write(JPEG[:50])
    up.write(JPEG[50:])
    named = _names(tmp_path)
    assert (named == []) if anonymous else (len(named) == 1 and "/.upload-" in named[0]), named
    up.commit()
    up.abort()  # e.g. the request cancelled while the commit ran in a thread: the object stays
    assert _names(tmp_path) == ["users/u1/a.jpg"] and target.read_bytes() == JPEG

    up = Upload("users/u1/a.jpg", target, "image/jpeg", 4096, anonymous)
    up.write(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)  # not what the key says
    with pytest.raises(StorageError):
        up.commit()
    up.abort()
    assert _names(tmp_path) == ["users/u1/a.jpg"] and target.read_bytes() == JPEG

    up = Upload("users/u1/a.jpg", target, "image/jpeg", 100, anonymous)
    with pytest.raises(StorageError):
        up.write(JPEG)  # over the limit
    up.abort()
    with pytest.raises(StorageError):
        up.write(JPEG[:10])  # after the abort: refused, nothing reopened
    assert _names(tmp_path) == ["users/u1/a.jpg"]


@pytest.mark.parametrize("anonymous", KINDS)
def test_abort_racing_writes_from_threads(tmp_path: Path, anonymous: bool) -> None:
    """Writes on a thread (``asyncio.to_thread``) and an abort on another leave no file."""
    for _ in range(20):
        up = Upload("k.jpg", tmp_path / "k.jpg", "image/jpeg", 1 << 30, anonymous)
        up.write(JPEG)

        def writer(up: Upload) -> None:
            try:
                for _ in range(200):
                    up.write(b"\0" * 4096)
            except StorageError:
                pass  # aborted under us

        t = threading.Thread(target=writer, args=(up,))
        t.start()
        up.abort()
        t.join()
        assert _names(tmp_path) == []
