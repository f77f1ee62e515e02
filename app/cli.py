"""``xiaozhibo`` command line (SPEC section 10).

``xiaozhibo`` alone opens the GUI; subcommands dispatch to a ``main(argv) -> int`` in the module
that owns them, imported lazily so ``xiaozhibo server`` never loads Qt and ``push`` never loads
the server.
"""

from __future__ import annotations

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
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
