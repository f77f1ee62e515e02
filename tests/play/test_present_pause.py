"""No frame is shown after ``Player.pause()`` returns (a CI run saw one more frame in the list of
shown frames 0.5 s after pausing: the presenter had read the clock just before the pause)."""

from __future__ import annotations

from types import SimpleNamespace

from app.play.clock import MasterClock
from app.play.errors import PlayState
from app.play.pipe import Callbacks, Pipe
from app.play.player import Player
from app.play.present import Presenter
from app.play.settings import PlaySettings, SourceKind
from app.play.stats import StatsMeter


def test_a_pause_between_the_clock_check_and_the_show_holds_the_frame() -> None:
    shown: list[object] = []
    pipe = Pipe("replay.mp4", SourceKind.FILE, PlaySettings(), MasterClock(), StatsMeter(),
                Callbacks(present=shown.append))
    pipe.clock.start(0.0)
    player = SimpleNamespace(_state=PlayState.PLAYING, pipe=pipe, clock=pipe.clock, _set_state=lambda s: None)
    master = pipe.clock.audio_master

    def pause_now() -> bool:  # runs after the presenter decided the frame is due, before it shows it
        Player.pause(player)  # type: ignore[arg-type]
        return master()

    pipe.clock.audio_master = pause_now  # type: ignore[method-assign]
    frame = SimpleNamespace(pts=0.0, wallclock=None)
    pres = Presenter(pipe)
    pres.shown_epoch = pipe.epoch
    assert pres._due(frame, pipe.epoch) is not None  # it waits for resume()
    assert pipe.paused and shown == []

    pipe.clock.audio_master = master  # type: ignore[method-assign]
    Player.resume(SimpleNamespace(pipe=pipe, clock=pipe.clock, _set_state=lambda s: None))  # type: ignore[arg-type]
    assert pres._due(frame, pipe.epoch) is None and shown == [frame]
