#!/usr/bin/env bash
# Builds the desktop package with PyInstaller from this checkout:
#   dist/xiaozhibo/                              the program folder (run dist/xiaozhibo/xiaozhibo [up|gui|...])
#   dist/xiaozhibo-<version>-<os>-<arch>.tar.gz  the same folder packed (Linux and macOS)
# Spec: deploy/pyinstaller/xiaozhibo.spec (Linux, Windows and macOS; see the README).
#
# usage: bash scripts/package.sh
# environment:
#   XIAOZHIBO_PYTHON  the Python to build with; it must have the project's dependencies
#                     (default: the venv of scripts/install.sh when present, else python3)
# PyInstaller (the project's "build" extra) is installed into that Python when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
say() { echo "package: $*"; }
if [ -n "${XIAOZHIBO_PYTHON:-}" ]; then PY=$XIAOZHIBO_PYTHON
elif [ -x "$XZB_PY" ]; then PY=$XZB_PY
else PY=$(command -v python3)
fi
"$PY" -c 'import PySide6, av, uvicorn' 2>/dev/null \
  || { echo "package: $PY lacks the project's dependencies; run scripts/install.sh first" >&2; exit 1; }
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  say "installing PyInstaller into $PY"
  "$PY" -m pip install -q --disable-pip-version-check "pyinstaller>=6.10"
fi
version=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
start=$(date +%s)
say "building with $PY ($("$PY" -m PyInstaller --version 2>/dev/null | tail -1))"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller deploy/pyinstaller/xiaozhibo.spec
case "$(uname -s)" in
  Linux)
    # The desktop entry installer and its template travel with the folder.
    mkdir -p dist/xiaozhibo/share
    cp deploy/linux/xiaozhibo.desktop dist/xiaozhibo/share/
    cp deploy/linux/install-desktop.sh dist/xiaozhibo/install-desktop.sh
    cat > dist/xiaozhibo/README.txt <<TXT
Xiaozhibo $version (Linux, x86-64 build of PyInstaller).
Run:                      ./xiaozhibo up      (all-in-one server + GUI; ./xiaozhibo --help for more)
Menu entry and icons:     ./install-desktop.sh "\$PWD/xiaozhibo" "\$PWD/_internal/resources/icons"
Needs the desktop's X11/Wayland libraries (Debian: libxcb-cursor0, libegl1, libportaudio2).
TXT
    os=linux ;;
  Darwin) os=macos ;;
  *) os=windows ;;
esac
if [ "$os" != windows ]; then
  tarball="dist/xiaozhibo-$version-$os-$(uname -m).tar.gz"
  tar -C dist -czf "$tarball" xiaozhibo
  say "archive: $tarball ($(du -h "$tarball" | cut -f1))"
fi
say "folder: dist/xiaozhibo ($(du -sh dist/xiaozhibo | cut -f1)), built in $(( $(date +%s) - start )) s"
