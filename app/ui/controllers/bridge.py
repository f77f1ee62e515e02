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

Engine threads never emit on the bridge itself: emitting on a QObject while the GUI thread deletes
it (a window closing) touched a half-destroyed object — a segfault. They emit on one relay object
that lives as long as the process, carrying the bridge's gate; the bridge's ``destroyed`` closes
the gate, and the relay checks it on the GUI thread, so closing and checking never race.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.ui.qt import QObject, Qt, Signal, Slot


class _Gate:
    """Open while its bridge's C++ object lives; only read and closed on the GUI thread."""

    def __init__(self) -> None:
        self.open = True

    def close(self, *_args: Any) -> None:
        self.open = False


class _Relay(QObject):
    """The one never-deleted object engine threads emit on (see the module docstring)."""

    _call = Signal(object, object, object)

    def __init__(self) -> None:
        super().__init__(None)
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object, object, object)
    def _run(self, gate: _Gate, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if gate.open:
            fn(*args)


_relay: _Relay | None = None


def _shared_relay() -> _Relay:
    global _relay
    if _relay is None:  # created on the GUI thread: bridges are made there
        _relay = _Relay()
    return _relay


class EngineBridge(QObject):
    """Re-posts calls from any thread to the GUI thread; ignores them once it is deleted."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._gate = _Gate()  # plain Python attributes: readable from any thread, even after deletion
        self._relay = _shared_relay()
        gate = self._gate  # a lambda, not the bound method ``gate.close``: PySide mishandled that (segfault)
        self.destroyed.connect(lambda *_a: gate.close())

    def post(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the GUI thread soon; safe from any thread, a no-op once deleted."""
        if self._gate.open:
            self._relay._call.emit(self._gate, fn, args)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., None]:
        """A callable for an engine: each call is posted to ``fn`` on the GUI thread."""
        def posted(*args: Any) -> None:
            self.post(fn, *args)
        return posted
