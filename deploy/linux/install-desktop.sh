#!/usr/bin/env bash
# Installs the desktop entry and the icons for the current user (idempotent):
#   $XDG_DATA_HOME/applications/xiaozhibo.desktop          (default ~/.local/share)
#   $XDG_DATA_HOME/icons/hicolor/<N>x<N>/apps/xiaozhibo.png
# usage: install-desktop.sh PROGRAM ICON_DIR
#   PROGRAM   absolute path of the xiaozhibo program the entry runs (launcher or bundle)
#   ICON_DIR  folder holding xiaozhibo_<N>.png (resources/icons in a checkout)
# The template next to this script is used when present (checkout); else the copy in ICON_DIR/..
set -euo pipefail
program=$1 icons=$2
here=$(cd "$(dirname "$0")" && pwd)
template="$here/xiaozhibo.desktop"
[ -f "$template" ] || template="$here/share/xiaozhibo.desktop"
share="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$share/applications"
for png in "$icons"/xiaozhibo_*.png; do
  n=$(basename "$png" .png); n=${n#xiaozhibo_}
  mkdir -p "$share/icons/hicolor/${n}x${n}/apps"
  cp -f "$png" "$share/icons/hicolor/${n}x${n}/apps/xiaozhibo.png"
done
# Exec/TryExec name the program by absolute path: a desktop session's PATH may lack ~/.local/bin.
case "$program" in
  /*) ;;
  *) echo "install-desktop: PROGRAM must be an absolute path, not $program" >&2; exit 2 ;;
esac
case "$program" in
  *[\"\$\`\\]*) echo "install-desktop: cannot name $program in a desktop entry (quote characters)" >&2; exit 2 ;;
esac
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
    "Exec=xiaozhibo"*) line="Exec=\"$program\"${line#Exec=xiaozhibo}" ;;
    "TryExec=xiaozhibo") line="TryExec=$program" ;;
  esac
  printf '%s\n' "$line"
done < "$template" > "$share/applications/xiaozhibo.desktop.tmp"
mv -f "$share/applications/xiaozhibo.desktop.tmp" "$share/applications/xiaozhibo.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$share/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null && [ -f "$share/icons/hicolor/index.theme" ] \
  && gtk-update-icon-cache -q -t "$share/icons/hicolor" 2>/dev/null || true
echo "desktop entry: $share/applications/xiaozhibo.desktop"
