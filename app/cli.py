"""``xiaozhibo`` command line (SPEC section 10).

``xiaozhibo`` alone opens the GUI; subcommands dispatch to a ``main(argv) -> int`` in the module
that owns them, imported lazily so ``xiaozhibo server`` never loads Qt and ``push`` never loads
the server.
"""

from __future__ import annotations

import gc
import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server.main", "run the all-in-one backend (API, IM, media server, storage)"),
    "push": ("app.push.cli", "publish camera/screen/test/file source to an RTMP URL"),
    "play": ("app.play.cli", "play a live or replay URL"),
    "doctor": ("server.doctor", "check a deployment end to end"),
    "gui": ("app.ui.main", "open the desktop client (the default)"),
    "up": ("app.up", "start the all-in-one server and open the GUI connected to it"),
}


# Commands that run headless (no Qt: the GUI manages the collector itself, app/ui/gc_guard.py).
LEAN_EXIT = ("server", "push", "play", "doctor")


def usage() -> str:
    lines = ["usage: xiaozhibo [COMMAND] [ARGS...]", "", "commands:"]
    lines += [f"  {name:<8} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "With no command, opens the GUI."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name = args.pop(0) if args and not args[0].startswith("-") else "gui"
    if name not in COMMANDS:
        print(f"xiaozhibo: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if name not in LEAN_EXIT:
        return int(importlib.import_module(COMMANDS[name][0]).main(args) or 0)
    # Each command's imports (FastAPI, SQLAlchemy, PyAV: ~1000 modules) set off ~330 cyclic
    # collections (0.13-0.16 s of a server's ~1 s start) that find next to nothing: the collector is
    # off while they load (``server`` turns it on once it is ready, see server/main.py; the others
    # right after the import).
    gc.disable()
    try:
        module = importlib.import_module(COMMANDS[name][0])
        if name != "server":
            gc.enable()
        return int(module.main(args) or 0)
    finally:
        # The collection the interpreter runs at exit walks every object still alive (the whole
        # import graph) to find cycles the OS is about to reclaim anyway: 0.3-0.4 s CPU per server
        # stop (1.36 -> 1.00 CPU-s per start + stop). Frozen objects are left out of it; everything
        # is still freed by reference counting and every open file, socket and database was
        # closed by the command itself.
        gc.freeze()
        gc.enable()


if __name__ == "__main__":
    sys.exit(main())
