"""The one way engine callbacks reach the GUI thread (in the spirit of Anki's ``run_on_main``).

Engines (push, play, IM, co-hosting, recording) call back on their own worker threads; widgets
may only be touched on the GUI thread. A controller owns one :class:`EngineBridge` (a Qt child of
the controller, so it lives on the GUI thread) and hands the engine wrapped callables::

    self._bridge = EngineBridge(self)
    client.on_message = self._bridge.wrap(self._deliver_message)

``wrap(fn)`` returns a function that any thread may call; ``fn`` then runs on the GUI thread,
in call order. When the controller (and so the bridge) is deleted — a window closed while the
engine still calls back — Qt drops what is still queued and later calls are ignored: ``fn`` is
never called on a dead object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.ui.qt import QObject, Qt, Signal, Slot


class EngineBridge(QObject):
    """Re-posts calls from any thread to the thread this object lives on (the GUI thread)."""

    _call = Signal(object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the GUI thread soon; safe from any thread, a no-op once deleted."""
        try:
            self._call.emit(fn, args)
        except RuntimeError:  # the bridge's C++ object is gone (its window closed): nobody listens
            pass

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """A callable for an engine: each call is posted to ``fn`` on the GUI thread."""
        def posted(*args: Any) -> None:
            self.post(fn, *args)
        return posted

    @Slot(object, object)
    def _run(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        fn(*args)
