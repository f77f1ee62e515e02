"""Background image loading for covers and avatars, with a memory and a disk cache.

``ImageLoader.load(url, receiver, callback)`` calls ``callback(QImage)`` on the UI thread once
the image is there (at once when it is cached). Downloads run on a small thread pool of their
own, so slow image hosts never hold up API calls; each URL is fetched once however many cards
ask for it. Failures leave the placeholder in place and are logged once per URL.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import requests

from app.ui.controllers.bridge import EngineBridge
from app.ui.qt import QImage, QObject, QRunnable, QThreadPool, Slot
from protocol.tls import requests_verify

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[3] / "resources"
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MEMORY_ITEMS = 300


def resource(name: str) -> Path:
    """Path of a file in ``resources/`` (icons, placeholders, QSS, translations)."""
    return RESOURCES / name


class _Fetch(QRunnable):
    def __init__(self, loader: ImageLoader, url: str, cache_file: Path | None, timeout: float,
                 verify: str | bool = True) -> None:
        super().__init__()
        self.loader, self.url, self.cache_file, self.timeout = loader, url, cache_file, timeout
        self.verify = verify

    def run(self) -> None:
        data = b""
        try:
            if self.cache_file is not None and self.cache_file.exists():
                data = self.cache_file.read_bytes()
            else:
                data = self._download()
        except (OSError, requests.RequestException, ValueError) as e:
            self._emit(self.url, QImage(), str(e))
            return
        image = QImage.fromData(data)
        if image.isNull():
            self._emit(self.url, image, "not an image")
            return
        if self.cache_file is not None and not self.cache_file.exists():
            try:
                self.cache_file.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.cache_file.with_suffix(f".tmp{os.getpid()}")
                tmp.write_bytes(data)
                os.replace(tmp, self.cache_file)
            except OSError as e:
                log.debug("image cache write failed: %s", e)
        self._emit(self.url, image, "")

    def _download(self) -> bytes:
        with requests.get(self.url, timeout=self.timeout, stream=True, verify=self.verify) as r:
            r.raise_for_status()
            chunks, size = [], 0
            for chunk in r.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_IMAGE_BYTES:
                    raise ValueError(f"image larger than {MAX_IMAGE_BYTES} bytes")
                chunks.append(chunk)
            return b"".join(chunks)

    def _emit(self, url: str, image: QImage, error: str) -> None:
        self.loader._bridge.post(self.loader._on_loaded, url, image, error)


class ImageLoader(QObject):
    """Loads images by URL in the background; one per application (``ImageLoader.shared()``)."""

    _shared: ImageLoader | None = None

    def __init__(self, cache_dir: Path | None = None, threads: int = 4, timeout: float = 10.0,
                 parent: QObject | None = None, ca_file: Callable[[], str] | str = "") -> None:
        """``ca_file``: the Settings' CA file for https image URLs (a callable is read per download,
        so a change in Settings applies at once); "" means the system certificates."""
        super().__init__(parent)
        self.cache_dir = cache_dir
        self.timeout = timeout
        self.ca_file = ca_file
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._memory: OrderedDict[str, QImage] = OrderedDict()
        self._waiting: dict[str, list[tuple[QObject, Callable[[QImage], None]]]] = {}
        self._failed: set[str] = set()
        self._bridge = EngineBridge(self)  # fetch threads -> _on_loaded on the UI thread

    def verify(self) -> str | bool:
        """``requests``' ``verify`` for the next download: the CA file, or the system store."""
        ca = self.ca_file() if callable(self.ca_file) else self.ca_file
        return requests_verify(ca)

    @classmethod
    def shared(cls) -> ImageLoader:
        if cls._shared is None:
            cls._shared = ImageLoader()
        return cls._shared

    @classmethod
    def set_shared(cls, loader: ImageLoader) -> None:
        cls._shared = loader

    def load(self, url: str, receiver: QObject, callback: Callable[[QImage], None]) -> bool:
        """Ask for ``url``; ``callback`` runs on the UI thread unless ``receiver`` was deleted.

        Returns True if the image was in memory and ``callback`` already ran.
        """
        if not url or not url.startswith(("http://", "https://")) or url in self._failed:
            return False
        image = self._memory.get(url)
        if image is not None:
            self._memory.move_to_end(url)
            callback(image)
            return True
        first = url not in self._waiting
        self._waiting.setdefault(url, []).append((receiver, callback))
        if first:
            self._pool.start(_Fetch(self, url, self._cache_file(url), self.timeout, self.verify()))
        return False

    def cached(self, url: str) -> QImage | None:
        return self._memory.get(url)

    def idle(self) -> bool:
        """True when no download is in flight (tests wait for it)."""
        return not self._waiting

    def clear_failures(self) -> None:
        """Let URLs that failed be tried again (after a refresh)."""
        self._failed.clear()

    def prune_disk_cache(self, max_bytes: int) -> None:
        """Trim the disk cache to ``max_bytes``, oldest files first (in a background thread)."""
        if self.cache_dir is None:
            return
        root = self.cache_dir / "images"

        def prune() -> None:
            try:
                files = sorted((p.stat().st_mtime, p.stat().st_size, p) for p in root.glob("*/*") if p.is_file())
            except OSError:
                return
            total = sum(size for _, size, _ in files)
            for _, size, path in files:
                if total <= max_bytes:
                    break
                path.unlink(missing_ok=True)
                total -= size

        threading.Thread(target=prune, name="image-cache-prune", daemon=True).start()

    def _cache_file(self, url: str) -> Path | None:
        if self.cache_dir is None:
            return None
        h = hashlib.sha1(url.encode("utf-8")).hexdigest()
        return self.cache_dir / "images" / h[:2] / h

    @Slot(str, QImage, str)
    def _on_loaded(self, url: str, image: QImage, error: str) -> None:
        waiting = self._waiting.pop(url, [])
        if error:
            log.info("image %s not loaded: %s", url, error)
            self._failed.add(url)
            return
        self._memory[url] = image
        while len(self._memory) > MEMORY_ITEMS:
            self._memory.popitem(last=False)
        for _receiver, callback in waiting:
            try:
                callback(image)
            except RuntimeError:  # the widget that asked was deleted meanwhile
                pass
