#!/usr/bin/env bash
# Installs Xiaozhibo for the current user:
#   1. the Debian packages in deploy/debian-packages.txt (plus deploy/debian-packages-test.txt
#      with --test) via apt-get, when on Debian/Ubuntu;
#   2. a virtual environment (default ~/.local/share/xiaozhibo/venv) made from Python 3.11+,
#      with this checkout installed into it editable (the checkout is what runs);
#   3. a `xiaozhibo` launcher in ~/.local/bin (and /usr/local/bin when ~/.local/bin is not on
#      PATH, so `xiaozhibo up` works in the same shell);
#   4. on Linux, the menu entry and icons (~/.local/share/applications, ~/.local/share/icons).
# Running it again is quick: pip is skipped while pyproject.toml, the extras and the checkout
# path are unchanged.
#
# usage: bash scripts/install.sh [--test]
# environment:
#   XIAOZHIBO_VENV     where the virtual environment goes
#   XIAOZHIBO_PYTHON   the Python to build it from (default: /usr/bin/python3 when >= 3.11,
#                      else python3 on PATH)
#   XIAOZHIBO_BIN_DIR  where the launcher goes (default ~/.local/bin)
#   XIAOZHIBO_NO_APT=1 skip the Debian packages step
#   XIAOZHIBO_NO_DESKTOP=1 skip the menu entry and icons
#   XIAOZHIBO_VENV_PTH a directory of installed packages the new venv also sees (a .pth file);
#                      the suite's install test uses it to reuse its own packages offline
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd -P)
. scripts/venv.sh

extras=""
case "${1:-}" in
  --test) extras="[test]" ;;
  "") ;;
  *) echo "usage: bash scripts/install.sh [--test]" >&2; exit 2 ;;
esac

say() { echo "install: $*"; }
die() { echo "install: $*" >&2; exit 1; }

# --- 1. Debian packages -------------------------------------------------------------------------
apt_packages() {
  local lists=(deploy/debian-packages.txt) pkgs missing="" p
  [ -n "$extras" ] && lists+=(deploy/debian-packages-test.txt)
  pkgs=$(cat "${lists[@]}" | grep -v '^\s*#' | grep -v '^\s*$' | tr '\n' ' ')
  for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}
if [ "${XIAOZHIBO_NO_APT:-0}" != 1 ]; then
  if command -v dpkg >/dev/null && command -v apt-get >/dev/null; then
    apt_packages
  else
    say "not a Debian/Ubuntu system: install PortAudio, ffmpeg and Qt's platform libraries yourself"
  fi
fi

# --- 2. Python and the virtual environment --------------------------------------------------------
version_ok() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
pick_python() {
  if [ -n "${XIAOZHIBO_PYTHON:-}" ]; then echo "$XIAOZHIBO_PYTHON"; return; fi
  # The distribution's Python first: it stays put (a venv links to its base interpreter) and
  # python3-venv matches it. A private build on PATH (pyenv, deadsnakes) is the fallback.
  if [ -x /usr/bin/python3 ] && version_ok /usr/bin/python3; then echo /usr/bin/python3; return; fi
  command -v python3 || echo /usr/bin/python3
}
PY=$(pick_python)
if ! version_ok "$PY"; then
  found=$("$PY" -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo "none")
  die "Python 3.11 or newer is needed; $PY is $found. Debian 12 and Ubuntu 24.04 ship it; elsewhere install
  Python 3.11+ and run: XIAOZHIBO_PYTHON=/path/to/python3.11 bash scripts/install.sh"
fi

if ! "$XZB_PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "creating the virtual environment $XZB_VENV from $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
  if [ -e "$XZB_VENV" ] && [ ! -f "$XZB_VENV/pyvenv.cfg" ] && [ -n "$(ls -A "$XZB_VENV" 2>/dev/null)" ]; then
    die "$XZB_VENV exists and is not a virtual environment; set XIAOZHIBO_VENV to another folder"
  fi
  mkdir -p "$(dirname "$XZB_VENV")"
  "$PY" -m venv --clear "$XZB_VENV" \
    || die "could not create a virtual environment with $PY (Debian/Ubuntu: apt-get install python3-venv)"
  if [ -n "${XIAOZHIBO_VENV_PTH:-}" ]; then
    "$XZB_PY" -c 'import sys, sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "_xiaozhibo_shared.pth").write_text(sys.argv[1] + "\n")' "$XIAOZHIBO_VENV_PTH"
  fi
fi

stamp_file="$XZB_VENV/.xiaozhibo-install"
stamp="$(sha256sum pyproject.toml | cut -d' ' -f1) extras=$extras root=$ROOT python=$("$XZB_PY" -c 'import sys; print(sys.version.split()[0])')"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] && [ -x "$XZB_VENV/bin/xiaozhibo" ]; then
  say "$XZB_VENV is up to date"
else
  say "installing this checkout into $XZB_VENV (pip, editable${extras:+, with test extras})"
  rm -f "$stamp_file"
  "$XZB_PY" -m pip install -q --disable-pip-version-check -e ".${extras}"
  echo "$stamp" > "$stamp_file"
fi

# --- 3. The launcher ------------------------------------------------------------------------------
on_path() { case ":$PATH:" in *":$1:"*) return 0 ;; *) return 1 ;; esac; }
BIN="${XIAOZHIBO_BIN_DIR:-$HOME/.local/bin}"
mkdir -p "$BIN"
ln -sfn "$XZB_VENV/bin/xiaozhibo" "$BIN/xiaozhibo"
say "launcher: $BIN/xiaozhibo"
if ! on_path "$BIN"; then
  # A child process cannot change its shell's PATH: put a second link where the shell already
  # looks, so `bash scripts/install.sh && xiaozhibo up` works right away.
  sys_bin=/usr/local/bin
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  current=$(readlink "$sys_bin/xiaozhibo" 2>/dev/null || true)
  if [ -z "${XIAOZHIBO_BIN_DIR:-}" ] && on_path "$sys_bin" && [ -d "$sys_bin" ] \
     && { [ ! -e "$sys_bin/xiaozhibo" ] || [[ "$current" == */bin/xiaozhibo ]]; } \
     && { [ -z "$sudo" ] || say "$BIN is not on PATH in this shell: linking $sys_bin/xiaozhibo with sudo"; } \
     && $sudo ln -sfn "$XZB_VENV/bin/xiaozhibo" "$sys_bin/xiaozhibo" 2>/dev/null; then
    say "also linked $sys_bin/xiaozhibo ($BIN is not on PATH in this shell)"
  else
    say "$BIN is not on your PATH. Run it as $BIN/xiaozhibo, or add it:"
    say "  echo 'export PATH=\"$BIN:\$PATH\"' >> ~/.profile && export PATH=\"$BIN:\$PATH\""
  fi
fi

# --- 4. Menu entry and icons (Linux) --------------------------------------------------------------
if [ "$(uname -s)" = Linux ] && [ "${XIAOZHIBO_NO_DESKTOP:-0}" != 1 ]; then
  bash deploy/linux/install-desktop.sh "$BIN/xiaozhibo" "$ROOT/resources/icons" | sed 's/^/install: /'
fi
